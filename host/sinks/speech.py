"""Speak the coach's events with espeak-ng: rep counts, hold countdowns, cues, set and session news.

``handle()`` only files the phrase; one worker thread speaks, one utterance at a time, through
the ``espeak-ng`` command (or renders WAV files with ``wav_dir``, e.g. for tests or to listen
back). The person is often faster than the voice, so phrases have priority rules:

1. **Announcements are never dropped**: cue texts, "done" (hold reached), "set complete",
   step instructions, the "3, 2, 1, go" before a set, rest, sensor link lost/back, a walk's
   minutes and distance so far (every minute) and its result, the session summary. They wait
   in a FIFO.
2. **Rep counts are latest-only**: a new count replaces a count not yet spoken, so the number
   you hear is always the current one ("one" ... "four", never a stale "two" and "three").
3. **Hold countdowns are latest-only and short-lived**: "hold" on hold_start, then whole
   seconds remaining, at most one per second (every second up to 5, multiples of 5 above);
   one that could not start within ``COUNTDOWN_STALE_S`` is skipped, and hold_done or the rep
   itself clears any countdown still waiting.
4. Among waiting phrases the oldest event is spoken first, so "ten" comes before "set complete".

Without a sound device (or without espeak-ng) nothing can be heard: one warning says so, and
each phrase goes to ``on_silent(text, kind)`` (the console shows it) instead.

Latency (``latencies_s``): from the event to the start of audio: the moment espeak-ng starts
playing (process started) or, when rendering, its first audio bytes. The event time is its
``t_s``; for a rep it is when the rep ended on the host clock (``t_end_host``, else a host-clock
``t_end``), so the latency also covers the analysis delay before the event.
"""

from __future__ import annotations

import logging
import math
import re
import subprocess
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from movecoach import children, words
from movecoach import events as ev
from movecoach.errors import UserError

log = logging.getLogger(__name__)

COUNTDOWN_STALE_S = 1.0
COUNTDOWN_MIN_GAP_S = 1.0
CLOSE_TIMEOUT_S = 10.0

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_NO_AUDIO = re.compile(r"ALSA lib|cannot find card|Unknown PCM|No such file or directory|"
                       r"pulse|audio", re.IGNORECASE)


def number_words(n: int) -> str:
    """0-99 as English words ("twenty one"); other numbers as digits (espeak reads them)."""
    if 0 <= n < 20:
        return _ONES[n]
    if 20 <= n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    return str(n)


def step_sentence(data: dict) -> str:
    """Spoken at the start of a step: what to do, then where the sensor goes."""
    return f"{words.step_header(data)}. {words.get_ready(data)}"


@dataclass(frozen=True)
class Utterance:
    """One phrase to say. t_ref_s: host time (unix s) the event happened, for latency."""

    text: str
    kind: str
    t_ref_s: float
    order: int


class SpeechSink:
    """Speaks coach events; ``handle()`` never blocks (see the module doc for priorities).

    voice: an espeak-ng voice ("en-us", "en-gb+f3"; None = its default). rate_wpm: words per
    minute (80-450). volume: espeak amplitude 0-200 (100 = normal). wav_dir: render each
    utterance to a numbered WAV file there instead of playing it; with realtime=True the worker
    then stays busy as long as playing would take, so phrases queue up as on a speaker.
    on_silent(text, kind): called for each phrase that could not be heard (no sound device, no
    espeak-ng), e.g. to show it on screen. Results: ``spoken`` (texts in the order said),
    ``latencies_s``, ``wav_paths``.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        voice: str | None = None,
        rate_wpm: int = 160,
        volume: int = 100,
        engine: str = "espeak-ng",
        wav_dir: str | Path | None = None,
        realtime: bool = False,
        on_silent: Callable[[str, str], None] | None = None,
    ):
        self.enabled = enabled
        self.voice = voice
        self.rate_wpm = int(min(max(rate_wpm, 80), 450))
        self.volume = int(min(max(volume, 0), 200))
        self.engine = engine
        self.wav_dir = Path(wav_dir) if wav_dir is not None else None
        self.realtime = realtime
        self.on_silent = on_silent
        if self.wav_dir is not None:
            self.wav_dir.mkdir(parents=True, exist_ok=True)
        self.spoken: list[str] = []
        self.latencies_s: list[float] = []
        self.wav_paths: list[Path] = []

        self._cv = threading.Condition()
        self._fifo: deque[Utterance] = deque()
        self._count: Utterance | None = None
        self._countdown: Utterance | None = None
        self._order = 0
        self._last_countdown: tuple[int, float] | None = None  # (seconds said, event time)
        self._closing = False
        self._abort = threading.Event()
        self._audio_ok = True
        self._busy = False  # a phrase is being said
        self._proc: subprocess.Popen | None = None
        self._worker: threading.Thread | None = None
        if enabled and voice:
            check_voice(voice, engine)
        if enabled:
            self._worker = threading.Thread(target=self._run, name="speech", daemon=True)
            self._worker.start()

    # -- public API ---------------------------------------------------------------------------

    def handle(self, event: ev.Event) -> None:
        """File the phrase for ``event`` (if any) and return at once."""
        if not self.enabled or self._closing:
            return
        k = event.kind
        with self._cv:
            if isinstance(event, ev.Rep):
                self._countdown = None
                self._last_countdown = None
                self._count = self._utter(number_words(event.count), k, _rep_ref_time(event))
            elif isinstance(event, ev.HoldStart):
                self._count_down_from(event.target_s, event.t_s)
                self._countdown = self._utter("hold", k, event.t_s)
            elif isinstance(event, ev.HoldTick):
                self._tick(event.remaining_s, event)
            elif isinstance(event, ev.HoldDone):
                self._countdown = None
                self._last_countdown = None
                self._fifo.append(self._utter("done", k, event.t_s))
            elif isinstance(event, ev.Countdown):
                seconds = event.seconds
                self._fifo.append(self._utter(number_words(seconds) if seconds else "go", k, event.t_s))
            else:
                text = self._announcement(event)
                if text:
                    self._fifo.append(self._utter(text, k, event.t_s))
            self._cv.notify_all()

    def wait_quiet(self, timeout_s: float) -> bool:
        """Block until nothing waits to be said and nothing is being said (at most ``timeout_s``);
        True if it went quiet. The session waits so before counting in a set."""
        if self._worker is None:
            return True
        with self._cv:
            return self._cv.wait_for(
                lambda: not (self._busy or self._fifo or self._count or self._countdown), timeout_s)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Finish what is waiting (announcements such as the session summary), at most ``timeout_s``."""
        if self._worker is None:
            return
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._worker.join(timeout_s)
        if self._worker.is_alive():
            with self._cv:
                self._fifo.clear()
                self._count = self._countdown = None
                proc = self._proc
            self._abort.set()
            if proc is not None and proc.poll() is None:
                proc.terminate()
            self._worker.join(2.0)
            log.warning("speech: stopped with phrases still waiting after %.1f s", timeout_s)
        self._worker = None

    def __enter__(self) -> SpeechSink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- phrases ------------------------------------------------------------------------------

    def _utter(self, text: str, kind: str, t_ref_s: float) -> Utterance:
        self._order += 1
        return Utterance(text, kind, t_ref_s, self._order)

    def _count_down_from(self, target_s, t_s: float) -> None:
        n = math.ceil(target_s) if isinstance(target_s, int | float) else None
        self._last_countdown = (n, t_s)

    def _tick(self, remaining_s, event: ev.Event) -> None:
        if not isinstance(remaining_s, int | float) or remaining_s <= 0:
            return
        n = math.ceil(remaining_s - 1e-6)
        last_n, last_t = self._last_countdown or (None, -math.inf)
        if n == last_n or not (n <= 5 or n % 5 == 0):
            return
        if event.t_s - last_t < COUNTDOWN_MIN_GAP_S - 0.05:
            return
        self._last_countdown = (n, event.t_s)
        self._countdown = self._utter(number_words(n), event.kind, event.t_s)

    def _announcement(self, event: ev.Event) -> str | None:
        d = event.data  # the words are written from the message's fields
        if isinstance(event, ev.Cue):
            return event.text or None
        if isinstance(event, ev.SetComplete):
            return "set complete"
        if isinstance(event, ev.StepStart):
            return step_sentence(d)
        if isinstance(event, ev.Rest):
            return words.rest_words(d)
        if isinstance(event, ev.WalkMinute):
            return words.walk_minute_words(d)
        if isinstance(event, ev.Walk):
            return words.walk_text(d)
        if isinstance(event, ev.SessionEnd):
            return words.summary_sentence(event.summary, event.complete)
        if isinstance(event, ev.Link):
            state = str(event.state or "").lower()
            if state in ("lost", "down", "disconnected", "stalled"):
                return "sensor connection lost"
            if state in ("restored", "up", "connected", "ok", "resumed"):
                return "sensor connected"
        return None

    # -- worker -------------------------------------------------------------------------------

    def _next(self) -> Utterance | None:
        """The waiting phrase with the oldest event; None when nothing waits. Holds the lock."""
        now = time.time()
        if self._countdown is not None and now - self._countdown.t_ref_s > COUNTDOWN_STALE_S:
            log.debug("speech: skipping stale countdown %r", self._countdown.text)
            self._countdown = None
        candidates = [u for u in (self._count, self._countdown) if u is not None]
        if self._fifo:
            candidates.append(self._fifo[0])
        if not candidates:
            return None
        u = min(candidates, key=lambda c: c.order)
        if u is self._count:
            self._count = None
        elif u is self._countdown:
            self._countdown = None
        else:
            self._fifo.popleft()
        return u

    def _run(self) -> None:
        while True:
            with self._cv:
                u = self._next()
                while u is None and not self._closing:
                    self._cv.notify_all()  # quiet: wake wait_quiet()
                    self._cv.wait()
                    u = self._next()
                if u is None:
                    self._cv.notify_all()
                    return
                self._busy = True
            try:
                self._say(u)
            except Exception:  # a voice problem must never take the coach down
                log.exception("speech: could not say %r", u.text)
            finally:
                with self._cv:
                    self._busy = False

    def _command(self, text: str, *, to_stdout: bool) -> list[str]:
        cmd = [self.engine]
        if self.voice:
            cmd += ["-v", self.voice]
        cmd += ["-s", str(self.rate_wpm), "-a", str(self.volume)]
        if to_stdout:
            cmd.append("--stdout")
        return cmd + ["--", text]

    def _say(self, u: Utterance) -> None:
        if not self._audio_ok and self.wav_dir is None:
            self._silent(u)
            return
        if self.wav_dir is not None:
            self._render(u)
        else:
            self._play(u)

    def _spawn(self, cmd: list[str], **kw) -> subprocess.Popen | None:
        try:
            proc = children.popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
        except OSError as exc:
            self._audio_ok = False
            self.wav_dir = None
            log.warning("no voice: cannot run %s (%s); what the coach says is shown on screen instead",
                        self.engine, exc.strerror or exc)
            return None
        with self._cv:
            self._proc = proc
        return proc

    def _play(self, u: Utterance) -> None:
        proc = self._spawn(self._command(u.text, to_stdout=False), stdout=subprocess.DEVNULL)
        if proc is None:
            self._say(u)
            return
        latency_s = time.time() - u.t_ref_s
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        message = err.decode(errors="replace").strip()
        if proc.returncode != 0 or (message and _NO_AUDIO.search(message)):
            self._audio_ok = False
            last = message.splitlines()[-1] if message else f"exit status {proc.returncode}"
            log.warning("no sound device found (%s could not play), so what the coach says is "
                        "shown on screen instead", self.engine)
            log.info("speech: %s said: %s", self.engine, last)
            self._silent(u)
            return
        self.latencies_s.append(latency_s)
        self.spoken.append(u.text)

    def _silent(self, u: Utterance) -> None:
        """A phrase nobody can hear: logged, and handed to ``on_silent`` (the screen)."""
        log.info("say: %s", u.text)
        self.spoken.append(u.text)
        if self.on_silent is not None:
            try:
                self.on_silent(u.text, u.kind)
            except Exception:
                log.exception("speech: on_silent failed on %r", u.text)

    def _render(self, u: Utterance) -> None:
        proc = self._spawn(self._command(u.text, to_stdout=True), stdout=subprocess.PIPE)
        if proc is None:
            self._say(u)
            return
        first = proc.stdout.read1(65536)
        latency_s = time.time() - u.t_ref_s
        rest = proc.stdout.read()
        proc.wait()
        data = first + rest
        if proc.returncode != 0 or len(data) < 44 or data[:4] != b"RIFF":
            err = proc.stderr.read().decode(errors="replace").strip()
            log.warning("speech: %s could not render %r: %s", self.engine, u.text, err)
            return
        proc.stderr.close()
        path = self.wav_dir / f"{len(self.wav_paths) + 1:04d}-{u.kind}-{_slug(u.text)}.wav"
        _write_wav(path, data)
        self.wav_paths.append(path)
        self.latencies_s.append(latency_s)
        self.spoken.append(u.text)
        if self.realtime:
            with wave.open(str(path)) as w:
                self._abort.wait(w.getnframes() / w.getframerate())


def check_voice(voice: str, engine: str = "espeak-ng") -> None:
    """Raise :class:`UserError` when ``engine`` is installed but has no voice ``voice``."""
    try:
        proc = subprocess.run([engine, "-v", voice, "-q", "--", "x"], capture_output=True,
                              timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return  # no engine: reported (once) when the first phrase is due
    if proc.returncode != 0:
        raise UserError(f"speech voice {voice!r} not found; list them with: {engine} --voices")


def _rep_ref_time(event: ev.Rep) -> float:
    """When the rep ended on the host clock: ``t_end_host_s`` (the runner maps the sensor clock),
    else ``t_end_s`` if it is host time (close to the event time), else the event's ``t_s``."""
    for t in (event.t_end_host_s, event.t_end_s):
        if isinstance(t, int | float) and -30.0 <= event.t_s - t <= 30.0:
            return float(t)
    return event.t_s


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:32] or "x"


def _write_wav(path: Path, stream: bytes) -> None:
    """Write espeak-ng's streamed WAV (sizes unknown while streaming) as a proper WAV file."""
    channels = int.from_bytes(stream[22:24], "little")
    rate_hz = int.from_bytes(stream[24:28], "little")
    bits = int.from_bytes(stream[34:36], "little")
    start = stream.find(b"data", 12) + 8
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bits // 8)
        w.setframerate(rate_hz)
        w.writeframes(stream[start:])
