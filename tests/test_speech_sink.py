"""The speech sink with the real espeak-ng: what is said, how long it sounds, what gets skipped."""

from __future__ import annotations

import logging
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from movecoach.errors import UserError
from movecoach.events import Event, Rep, from_dict
from movecoach.sinks.speech import SpeechSink, number_words, step_sentence
from movecoach.words import summary_sentence

IDS = {"session_id": "s1", "device_id": "foot1"}


def rep(count: int, t_s: float | None = None) -> Event:
    t_s = time.time() if t_s is None else t_s
    return from_dict("rep", t_s, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "count": count,
                                  "set": 1, "amplitude_deg": 24.0, "hold_s": 2.0, "t_end": t_s - 0.05})


def cue(text: str) -> Event:
    return from_dict("cue", time.time(), {**IDS, "exercise": "heel-toe", "cue": "tip", "text": text})


def voiced_s(path: Path) -> float:
    """Seconds from the first to the last sample above 2% of full scale."""
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(float) / 32768
        fs = w.getframerate()
    loud = np.flatnonzero(np.abs(x) > 0.02)
    return 0.0 if loud.size == 0 else (loud[-1] - loud[0]) / fs


def samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


def test_a_rep_count_is_spoken_as_a_short_word(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path)
    sink.handle(rep(3))
    sink.close()
    assert sink.spoken == ["three"]
    assert 0.3 <= voiced_s(sink.wav_paths[0]) <= 1.0
    assert len(sink.latencies_s) == 1 and 0.0 <= sink.latencies_s[0] < 2.0


def test_latency_runs_from_the_end_of_the_rep_on_the_host_clock(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path)
    t_s = time.time()
    sink.handle(Rep(t_s=t_s, **IDS, exercise="march", rep_kind="lift", count=1, set=1,
                    amplitude_deg=30.0, hold_s=0.3, t_end_s=12.5,  # on the sensor's clock
                    t_end_host_s=t_s - 0.4))
    sink.close()
    assert 0.4 <= sink.latencies_s[0] < 2.4


def test_a_sentence_sounds_proportionally_longer_than_a_word(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path)
    sink.handle(rep(3))
    sink.handle(cue("Rise slowly onto your toes and keep your knees soft"))
    sink.close()
    word, sentence = (voiced_s(p) for p in sink.wav_paths)
    assert 2.0 < sentence < 5.0 and sentence > 4 * word


def test_ten_quick_reps_skip_stale_counts_and_end_on_the_current_one(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path, realtime=True)  # busy as long as a speaker would be
    for n in range(1, 11):
        sink.handle(rep(n))
        time.sleep(0.1)
    sink.close()
    counts = [words_to_int(w) for w in sink.spoken]
    assert len(counts) <= 4
    assert counts[-1] == 10
    assert counts == sorted(counts)


def test_cues_done_and_set_complete_are_never_dropped(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path, realtime=True)
    t = time.time()
    for n in range(1, 4):  # far faster than the voice: the hold is reached, the rep ends
        sink.handle(from_dict("hold_done", t, {**IDS, "exercise": "heel-toe", "kind": "heel_raise",
                                               "held_s": 2.0, "target_s": 2.0}))
        sink.handle(rep(n, t))
    sink.handle(cue("Stand tall"))
    sink.handle(from_dict("set_complete", t, {**IDS, "exercise": "heel-toe", "set": 1, "sets": 2, "reps": 3}))
    sink.close()
    assert sink.spoken.count("done") == 3
    assert sink.spoken[-2:] == ["Stand tall", "set complete"]
    assert sink.spoken[-3] == "three"  # the last count, before the news that came after it


def test_hold_countdown_says_each_second_once_then_done(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path, realtime=True)
    t0 = time.time()
    sink.handle(from_dict("hold_start", t0, {**IDS, "exercise": "heel-toe", "kind": "heel_raise",
                                             "target_s": 3.0, "count": 1}))
    for i in range(1, 12):
        time.sleep(max(0.0, t0 + 0.25 * i - time.time()))
        sink.handle(from_dict("hold_tick", time.time(), {**IDS, "exercise": "heel-toe", "kind": "heel_raise",
                                                         "held_s": 0.25 * i, "remaining_s": 3.0 - 0.25 * i}))
    sink.handle(from_dict("hold_done", time.time(), {**IDS, "exercise": "heel-toe", "kind": "heel_raise",
                                                     "held_s": 3.0, "target_s": 3.0}))
    sink.close()
    assert sink.spoken == ["hold", "two", "one", "done"]


def test_a_faster_rate_gives_shorter_audio_and_the_voice_changes_the_sound(tmp_path):
    sentence = cue("Slide down the wall and hold")
    renders = {}
    for name, kw in {"slow": {"rate_wpm": 120}, "fast": {"rate_wpm": 300},
                     "us": {"voice": "en-us"}, "gb": {"voice": "en-gb"}}.items():
        sink = SpeechSink(wav_dir=tmp_path / name, **kw)
        sink.handle(sentence)
        sink.close()
        renders[name] = sink.wav_paths[0]
    assert voiced_s(renders["fast"]) < 0.6 * voiced_s(renders["slow"])
    us, gb = samples(renders["us"]), samples(renders["gb"])
    assert us.size != gb.size or not np.array_equal(us, gb)


def test_an_unknown_voice_is_a_user_error():
    with pytest.raises(UserError, match="voice 'klingon-x' not found"):
        SpeechSink(voice="klingon-x")


def test_without_an_audio_device_speech_is_logged_not_crashed(monkeypatch, caplog):
    monkeypatch.setenv("ALSA_CONFIG_PATH", "/nonexistent")  # as on a server without sound
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent")
    caplog.set_level(logging.INFO, logger="movecoach.sinks.speech")
    sink = SpeechSink()
    sink.handle(rep(1))
    time.sleep(0.3)
    sink.handle(cue("Stand tall"))
    sink.close()
    assert sink.spoken == ["one", "Stand tall"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no sound device found" in warnings[0].message
    assert "shown on screen instead" in warnings[0].message
    assert "say: Stand tall" in caplog.text


def test_without_an_audio_device_the_phrases_go_to_the_screen(monkeypatch):
    monkeypatch.setenv("ALSA_CONFIG_PATH", "/nonexistent")
    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent")
    shown = []
    sink = SpeechSink(on_silent=lambda text, kind: shown.append((kind, text)))
    sink.handle(rep(1))
    time.sleep(0.3)
    sink.handle(from_dict("countdown", time.time(), {**IDS, "exercise": "march", "seconds": 0}))
    sink.close()
    assert shown == [("rep", "one"), ("countdown", "go")]


def test_the_session_can_wait_until_the_instructions_are_said(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path, realtime=True)
    sink.handle(cue("Strap the sensor on the top of your foot."))
    start = time.monotonic()
    assert sink.wait_quiet(timeout_s=20.0)
    waited = time.monotonic() - start
    sink.close()
    assert 1.0 < waited < 10.0  # as long as the sentence sounds, not the whole timeout
    assert sink.spoken == ["Strap the sensor on the top of your foot."]


def test_a_missing_engine_is_logged_once(caplog):
    sink = SpeechSink(engine="espeak-ng-not-installed")
    sink.handle(rep(1))
    sink.handle(cue("Stand tall"))
    sink.close()
    assert sink.spoken == ["one", "Stand tall"]
    assert sum("cannot run" in r.message for r in caplog.records) == 1


def test_handle_returns_at_once_while_the_voice_is_busy(tmp_path):
    sink = SpeechSink(wav_dir=tmp_path, realtime=True)
    sink.handle(cue("This sentence keeps the voice busy for a couple of seconds at least"))
    start = time.monotonic()
    for n in range(1, 101):
        sink.handle(rep(n))
    assert time.monotonic() - start < 0.5
    sink.close(timeout_s=0.2)
    assert len(sink.spoken) <= 2


def test_disabled_speech_says_nothing(tmp_path):
    sink = SpeechSink(enabled=False, wav_dir=tmp_path)
    sink.handle(rep(1))
    sink.close()
    assert sink.spoken == [] and list(tmp_path.iterdir()) == []


def test_phrases_for_steps_and_summaries():
    assert number_words(21) == "twenty one" and number_words(7) == "seven"
    text = step_sentence({"exercise": "heel-toe", "set": 1, "sets": 2, "target_reps": 20,
                          "hold_target_s": 2.0, "placement": "Strap the sensor on top of the right foot."})
    assert text == ("Heel-toe raises: 10 heel raises and 10 toe raises, alternating; hold 2 seconds "
                    "up on your toes (set 1 of 2). Get ready: strap the sensor on top of the right foot.")
    summary = {"routine": "morning", "duration_s": 370.0, "steps": [
        {"exercise": "heel-toe", "sets": [{"reps": 10}, {"reps": 10}]},
        {"exercise": "march", "sets": [{"reps": 1}]}], "sway": {"rms": 0.1}}
    assert summary_sentence(summary) == (
        "Session complete in 6 minutes 10 seconds: 20 heel-toe raises, 1 seated march and a "
        "balance trial. Well done.")
    assert summary_sentence({"reps": 1}) == "Session complete: 1 rep. Well done."
    assert summary_sentence({}, complete=False) == "Session ended early. What you did is saved."


def words_to_int(text: str) -> int:
    return next(n for n in range(100) if number_words(n) == text)
