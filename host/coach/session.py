"""The guided session: samples in, coach events out.

`SetCoach` is the pure part: it turns one set's live analyzer events (`RepEvent`) into coach
events (rep counts, hold countdowns, cues). `run_session` is the async loop around it: for each
step and set it opens a sample source, feeds the streaming analyzer the exercise's ``analysis``
names ('reps': RepAnalyzer, 'sway': SwayAnalyzer, 'walk': WalkAnalyzer), records every sample
and event, and hands events to the sinks (MQTT, speech, console).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from movecoach import events as ev
from movecoach.coach.routine import Routine, Step
from movecoach.coach.timed_walk import distance_by, time_to, totals, trials_mean
from movecoach.samples import SampleBlock
from movecoach.signal.exercises import KIND_NOUNS, get
from movecoach.signal.streaming import RepAnalyzer, SwayAnalyzer
from movecoach.signal.types import RepEvent
from movecoach.units import UnitCheck

if TYPE_CHECKING:
    from movecoach.link.source import LinkEvent

log = logging.getLogger(__name__)

# A hold counts as met when it is at most this much shorter than the target (measurement accuracy).
HOLD_TOLERANCE_S = 0.2

# After this many rep-sized movements from the wrong posture in a set (standing during marches,
# seated before wall slides), the coach says how to start: the reps are not being counted.
POSTURE_CUE_AFTER = 3
# Seconds of samples the sensor's readings are checked on at the start of a session (the person
# is getting ready, mostly still: gravity alone should be measured).
SENSOR_CHECK_S = 2.0

# "Starting in 3, 2, 1, go": one `countdown` event a second before each set. It runs while the
# set's samples already stream (the person is told to be still, the analysis sees the rest).
COUNT_IN_S = 3
# The instructions of a step are spoken before the count-in starts, but never waited for longer
# than this (a voice that hangs must not stop the session).
INSTRUCTIONS_MAX_S = 30.0
# A walk's time is up (or a 25-foot walk's distance reached): "stop" is said, and the samples
# are read this much longer, so the stride under way ends at its next stance and the distance
# up to the stop can be interpolated within it (a stride takes 1.0-1.5 s at 80-120 steps/min).
WALK_SETTLE_S = 2.0

# emit(EventClass, **fields): the runner adds the time and the ids, and sends it on
Emit = Callable[..., ev.Event]


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


def _rf(x: float | None, nd: int = 2) -> float | None:
    """Rounded, or None when missing or not finite (a walk too short for a stride-time CV)."""
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


@dataclass
class SetResult:
    """What one set produced: its reps in order and per-kind counts."""

    exercise: str
    set: int
    reps: list[ev.Rep] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    complete: bool = False

    def summary(self) -> dict:
        amps = [r.amplitude_deg for r in self.reps]
        held = [r for r in self.reps if r.hold_target_s]
        return {
            "set": self.set,
            "counts": dict(self.counts),
            "reps": len(self.reps),
            "mean_amplitude_deg": _r(sum(amps) / len(amps), 1) if amps else None,
            "holds_met": sum(1 for r in held if r.hold_met),
            "holds_target": len(held),
            "complete": self.complete,
        }


class SetCoach:
    """Turns one set's live `RepEvent`s into coach events through `emit(EventClass, **fields)`.

    `count` is the running number of reps in the set, all kinds together (what is spoken:
    heel-toe "10 each" is a target of 20); `counts` keeps the per-kind tally. A hold target
    applies to `step.hold_kinds`. Hold ticks are emitted when the whole seconds remaining change.
    """

    def __init__(self, step: Step, set_index: int, emit: Emit):
        self.step = step
        self.set_index = set_index
        self.emit = emit
        self.result = SetResult(step.exercise, set_index, counts={k: 0 for k in step.kinds})
        self._hold_started = False
        self._hold_done = False
        self._last_remaining: int | None = None
        self.hold_s = 0.0

    @property
    def done(self) -> bool:
        """True once the set reached its target reps (never, if there is no target)."""
        return self.step.reps is not None and len(self.result.reps) >= self.step.reps

    def _hold_target(self, kind: str) -> float | None:
        return self.step.hold_s if kind in self.step.hold_kinds else None

    def on_rep_event(self, live: RepEvent, t_host_s: float | None = None) -> None:
        ex = self.step.exercise
        if live.kind == "rep_start":
            self._hold_started = self._hold_done = False
            self._last_remaining = None
            self.hold_s = 0.0
            self.emit(ev.RepStart, exercise=ex, rep_kind=live.rep_kind, set=self.set_index)
        elif live.kind == "hold_tick":
            self.hold_s = live.hold_s
            target = self._hold_target(live.rep_kind)
            if not target:
                return
            if not self._hold_started:
                self._hold_started = True
                count = len(self.result.reps) + 1
                self.emit(ev.HoldStart, exercise=ex, rep_kind=live.rep_kind, target_s=target, count=count)
            if self._hold_done:
                return
            if live.hold_s >= target:
                self._hold_done = True
                self.emit(ev.HoldDone, exercise=ex, rep_kind=live.rep_kind, held_s=_r(live.hold_s), target_s=target)
                return
            remaining = target - live.hold_s
            whole = math.ceil(remaining)
            if whole != self._last_remaining:
                self._last_remaining = whole
                self.emit(ev.HoldTick, exercise=ex, rep_kind=live.rep_kind, held_s=_r(live.hold_s),
                          remaining_s=_r(remaining))
        elif live.kind == "rep_end" and live.rep is not None:
            self._finish_rep(live, t_host_s)

    def _finish_rep(self, live: RepEvent, t_host_s: float | None) -> None:
        rep, ex = live.rep, self.step.exercise
        counts = self.result.counts
        counts[rep.kind] = counts.get(rep.kind, 0) + 1
        target = self._hold_target(rep.kind)
        hold_met = None if not target else rep.hold_s + HOLD_TOLERANCE_S >= target
        event = self.emit(
            ev.Rep, exercise=ex, rep_kind=rep.kind, count=len(self.result.reps) + 1,
            target_reps=self.step.reps, set=self.set_index, amplitude_deg=_r(rep.amplitude_deg, 1),
            depth_deg=_r(rep.amplitude_deg, 1) if rep.kind == "slide" else None,
            hold_s=_r(rep.hold_s), hold_target_s=target, hold_met=hold_met,
            t_start_s=_r(rep.t_start, 3), t_peak_s=_r(rep.t_peak, 3), t_end_s=_r(rep.t_end, 3),
            t_end_host_s=_r(t_host_s, 3))
        self.result.reps.append(event)
        self._hold_started = self._hold_done = False
        self.hold_s = 0.0
        word = KIND_NOUNS[rep.kind][0]
        exercise = get(ex)
        if target and not hold_met:
            self.emit(ev.Cue, exercise=ex, cue="hold_short",
                      text=f"Try to hold that {word} for {target:g} seconds.")
        elif rep.amplitude_deg < exercise.min_good_deg.get(rep.kind, 0.0):
            self.emit(ev.Cue, exercise=ex, cue="shallow",
                      text=f"Good. Try to go a little {exercise.further} on the next {word}.")


class SampleSource(Protocol):
    """Gives, per step and set, an async iterator of `SampleBlock`s and, between them,
    `movecoach.link.source.LinkEvent`s (the link lost / restored)."""

    def open(self, step: Step, set_index: int) -> contextlib.AbstractAsyncContextManager[
            AsyncIterator[SampleBlock | LinkEvent]]: ...

    async def aclose(self) -> None: ...


@dataclass
class SessionOptions:
    """How the session runs. speed > 1 shortens waits (simulated wearables run faster too)."""

    speed: float = 1.0
    ready_s: float = 5.0
    idle_timeout_s: float = 120.0
    status_hz: float = 5.0
    feel_score: int | None = None
    feel_note: str | None = None
    ask_feel: Callable[[], tuple[int | None, str | None]] | None = None


class SessionRunner:
    """Runs a routine: one async call, `await runner.run()`, returns the session summary dict."""

    def __init__(
        self,
        routine: Routine,
        source: SampleSource,
        sinks: list[ev.Sink],
        *,
        device_id: str,
        recorder: Any | None = None,
        options: SessionOptions | None = None,
        source_name: str = "",
    ):
        self.routine = routine
        self.source = source
        self.sinks = sinks
        self.device_id = device_id
        self.recorder = recorder
        self.options = options or SessionOptions()
        self.source_name = source_name
        self.session_id = getattr(recorder, "id", None) or uuid.uuid4().hex[:12]
        self.results: list[tuple[Step, list[SetResult]]] = []
        self.sway: dict | None = None
        self.walk: dict | None = None
        self._trial_times: list[float | None] = []  # a timed test's trials so far
        self.lost_packets = 0
        self.analysis_errors = 0
        self._sensor_check: UnitCheck | None = UnitCheck()
        self._sensor_check_s = 0.0
        self._status_every_s = 1.0 / self.options.status_hz
        self._last_status = 0.0

    # -- events -------------------------------------------------------------------------------
    def emit(self, kind: type[ev.Event], **fields: Any) -> ev.Event:
        """Make the event of class ``kind`` from its fields, now, with this session's ids, and
        hand it to every sink and the recorder."""
        event = kind(t_s=time.time(), session_id=self.session_id, device_id=self.device_id, **fields)
        targets = [*self.sinks, self.recorder] if self.recorder is not None else self.sinks
        for sink in targets:
            try:
                sink.handle(event)
            except Exception:  # a failing sink must never stop the session
                log.exception("sink %s failed on %s", type(sink).__name__, event.kind)
        return event

    def _status(self, exercise: str, count: int, target: int | None, angle_deg: float, hold_s: float) -> None:
        now = time.monotonic()
        if now - self._last_status < self._status_every_s:
            return
        self._last_status = now
        for sink in self.sinks:
            status = getattr(sink, "status", None)
            if status is not None:
                status(exercise, count, target, angle_deg, hold_s)

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds / max(self.options.speed, 1e-6))

    def _record(self, block: SampleBlock, step_index: int) -> None:
        if self.recorder is not None:
            self.recorder.add_samples(block, step=step_index)

    # -- the session --------------------------------------------------------------------------
    async def run(self) -> dict:
        started = time.time()
        self.emit(ev.SessionStart, routine=self.routine.name, source=self.source_name,
                  steps=[s.exercise for s in self.routine.steps])
        complete = False
        try:
            for index, step in enumerate(self.routine.steps):
                await self._run_step(index, step)
            complete = True
        finally:
            summary = self._summary(started, complete)
            if complete:
                score, note = self.options.feel_score, self.options.feel_note
                if score is None and self.options.ask_feel is not None:
                    score, note = self.options.ask_feel()
                summary["feel"] = score
                summary["feel_note"] = note
                if score is not None and self.recorder is not None:
                    self.recorder.set_feel(score, note)
            self.emit(ev.SessionEnd, summary=summary, complete=complete)
            if self.recorder is not None and complete:
                self.recorder.finish(summary)
        return summary

    async def _run_step(self, index: int, step: Step) -> None:
        sets: list[SetResult] = []
        self.results.append((step, sets))
        for set_index in range(1, step.sets + 1):
            self.emit(ev.StepStart, exercise=step.exercise, title=step.title, set=set_index,
                      sets=step.sets, target_reps=step.reps, hold_target_s=step.hold_s,
                      placement=step.placement, duration_s=step.duration_s, test=step.test,
                      target_m=step.target_m, trial=step.trial, trials=step.trials)
            await self._get_ready(step)
            if step.analysis != "reps":  # a timed step: a balance trial or a walk
                if step.analysis == "walk":
                    await self._run_walk(index, step)
                else:
                    await self._run_sway(index, step)
                self.emit(ev.StepEnd, exercise=step.exercise, set=set_index, reps=0)
                if step.trial < step.trials:  # walk back to the start for the next trial
                    self.emit(ev.Rest, seconds=step.rest_s, walk_back=True)
                    await self._sleep(step.rest_s)
                continue
            result = await self._run_set(index, step, set_index)
            sets.append(result)
            self.emit(ev.SetComplete, exercise=step.exercise, set=set_index, sets=step.sets,
                      reps=len(result.reps), counts=dict(result.counts))
            self.emit(ev.StepEnd, exercise=step.exercise, set=set_index, reps=len(result.reps))
            if set_index < step.sets:
                self.emit(ev.Rest, seconds=step.rest_s)
                await self._sleep(step.rest_s)

    async def _get_ready(self, step: Step) -> None:
        """The wait after a step's instructions: ``ready_s``, and at least until the sinks have
        said them (a sink's ``wait_quiet(timeout_s)``); a balance trial or a walk then counts in
        here, before its samples, so its time starts at "go" (a set of reps counts in while its
        samples stream, see `_blocks`)."""
        ready_s = self.options.ready_s
        if ready_s <= 0:
            return
        started = time.monotonic()
        limit_s = INSTRUCTIONS_MAX_S / max(self.options.speed, 1e-6)
        for sink in self.sinks:
            wait_quiet = getattr(sink, "wait_quiet", None)
            if wait_quiet is not None:
                await asyncio.to_thread(wait_quiet, limit_s)
        waited_s = (time.monotonic() - started) * self.options.speed
        await self._sleep(ready_s - COUNT_IN_S - waited_s)
        if step.analysis != "reps":
            await self._count_in(step)

    async def _count_in(self, step: Step) -> None:
        for seconds in range(COUNT_IN_S, -1, -1):
            self.emit(ev.Countdown, exercise=step.exercise, seconds=seconds)
            if seconds:
                await self._sleep(1.0)

    def _on_link(self, item: LinkEvent, exercise: str) -> None:
        self.lost_packets += item.lost_packets
        self.emit(ev.Link, exercise=exercise, state=item.state, gap_s=_r(item.gap_s),
                  lost_packets=item.lost_packets)

    @contextlib.asynccontextmanager
    async def _blocks(self, index: int, step: Step, set_index: int) -> AsyncIterator[AsyncIterator[SampleBlock]]:
        """The set's sample blocks, each already recorded; link events go to the sinks on the way."""
        async with self.source.open(step, set_index) as samples:
            count_in = None
            if step.analysis == "reps" and self.options.ready_s > 0:
                count_in = asyncio.create_task(self._count_in(step))

            async def blocks() -> AsyncIterator[SampleBlock]:
                async for item in samples:
                    if not isinstance(item, SampleBlock):
                        self._on_link(item, step.exercise)
                    elif len(item):
                        self._record(item, index)
                        self._check_sensor(item, step.exercise)
                        yield item

            gen = blocks()
            try:
                yield gen
            finally:
                if count_in is not None:
                    count_in.cancel()
                await gen.aclose()

    async def _run_set(self, index: int, step: Step, set_index: int) -> SetResult:
        coach = SetCoach(step, set_index, self.emit)
        analyzer: RepAnalyzer | None = None
        last_rep_t: float | None = None
        posture_cued = False
        async with self._blocks(index, step, set_index) as blocks:
            async for block in blocks:
                if analyzer is None:
                    analyzer = RepAnalyzer(step.exercise, fs=block.fs)
                    if last_rep_t is None:
                        last_rep_t = float(block.t_s[0])
                try:
                    events = analyzer.push(block.t_s, block.acc_m_s2, block.gyr_rad_s)
                except Exception:  # an analysis bug must not end the session
                    self._analysis_failed(step.exercise)
                    analyzer = None  # a fresh analyzer takes the next block; counts so far stay
                    continue
                for live in events:
                    coach.on_rep_event(live, _host_time(block, live.t_s))
                    if live.kind in ("rep_start", "rep_end"):
                        last_rep_t = live.t_s
                if analyzer.wrong_posture_moves >= POSTURE_CUE_AFTER and not posture_cued:
                    posture_cued = True  # moving, but not from the posture the exercise starts in
                    self.emit(ev.Cue, exercise=step.exercise, cue="posture",
                              text=get(step.exercise).posture_cue)
                self._status(step.exercise, len(coach.result.reps), step.reps, analyzer.angle_deg, coach.hold_s)
                if coach.done:
                    break
                if float(block.t_s[-1]) - last_rep_t > self.options.idle_timeout_s:
                    self.emit(ev.Cue, exercise=step.exercise, cue="idle",
                              text="No movement for a while; ending this set.")
                    break
        if analyzer is not None and not coach.done:
            try:
                for live in analyzer.finish():
                    coach.on_rep_event(live, None)
            except Exception:
                self._analysis_failed(step.exercise)
        coach.result.complete = coach.done
        return coach.result

    async def _run_sway(self, index: int, step: Step) -> None:
        analyzer: SwayAnalyzer | None = None
        t0 = 0.0
        duration = step.duration_s or 30.0
        async with self._blocks(index, step, 1) as blocks:
            async for block in blocks:
                if analyzer is None:
                    analyzer = SwayAnalyzer(fs=block.fs)
                    t0 = float(block.t_s[0])
                try:
                    analyzer.push(block.t_s, block.acc_m_s2)
                except Exception:
                    self._analysis_failed(step.exercise)
                elapsed = float(block.t_s[-1]) - t0
                self._status(step.exercise, 0, None, 0.0, elapsed)
                if elapsed >= duration:
                    break
        if analyzer is None:
            self.emit(ev.Cue, exercise="sway", cue="no_data", text="No data from the sensor.")
            return
        try:
            metrics = analyzer.finish().to_json()
        except ValueError as exc:  # too short to analyse
            self.emit(ev.Cue, exercise="sway", cue="too_short", text=f"Balance trial too short: {exc}")
            return
        except Exception:
            self._analysis_failed("sway")
            self.emit(ev.Cue, exercise="sway", cue="analysis_failed",
                      text="I could not measure this balance trial.")
            return
        self.sway = {k: _r(v, 5) for k, v in metrics.items()}
        self.emit(ev.Sway, exercise="sway", metrics=self.sway)

    async def _run_walk(self, index: int, step: Step) -> None:
        """A walk: strides as they complete (``walk_progress``), the minutes and the distance so
        far every minute (``walk_minute``), "stop" when the time is up or a timed distance is
        reached, then the walk's totals, bouts and strides (``walk``)."""
        from movecoach.signal.gait import WalkAnalyzer

        analyzer: WalkAnalyzer | None = None
        parts: list = []  # results of analyzers that failed (their strides so far are kept)
        t0 = last_stride_t = last_t = 0.0
        duration = step.duration_s or 120.0
        target_m = step.target_m
        stop_t: float | None = None  # sensor time "stop" was said
        minute = 0
        n_strides = 0
        distance = 0.0
        async with self._blocks(index, step, 1) as blocks:
            async for block in blocks:
                if analyzer is None:
                    analyzer = WalkAnalyzer(fs=block.fs)
                    if not parts:
                        t0 = last_stride_t = float(block.t_s[0])
                try:
                    new = analyzer.push(block.t_s, block.acc_m_s2, block.gyr_rad_s)
                except Exception:  # an analysis bug must not end the session
                    self._analysis_failed(step.exercise)
                    parts.append(_partial_result(analyzer))
                    analyzer = None
                    continue
                for stride in new:
                    n_strides += 1
                    distance += stride.length_m
                    last_stride_t = stride.t_end
                    self.emit(ev.WalkProgress, exercise=step.exercise, test=step.test, strides=n_strides,
                              distance_m=_r(distance), elapsed_s=_r(stride.t_end - t0, 1),
                              stride=_stride_json(stride))
                now = last_t = float(block.t_s[-1])
                elapsed = now - t0
                while stop_t is None and elapsed >= 60.0 * (minute + 1) and 60.0 * (minute + 1) < duration:
                    minute += 1
                    self.emit(ev.WalkMinute, exercise=step.exercise, test=step.test, minute=minute,
                              distance_m=_r(distance), strides=n_strides)
                self._status(step.exercise, n_strides, None, None, min(elapsed, duration))
                if stop_t is None:
                    reached = target_m is not None and distance >= target_m
                    if reached or elapsed >= duration:
                        stop_t = now
                        if reached or (step.test and target_m is None):
                            text = "Stop. Well done."
                        else:  # a walk's time is up (a distance test's longest time, too)
                            text = "Time is up: you can stop walking."
                        self.emit(ev.Cue, exercise=step.exercise, cue="walk_stop", text=text)
                        if reached:
                            break  # the strides up to the distance are all complete
                    elif now - last_stride_t > self.options.idle_timeout_s:
                        self.emit(ev.Cue, exercise=step.exercise, cue="idle",
                                  text="No walking for a while; ending the walk.")
                        break
                elif now - stop_t >= WALK_SETTLE_S:
                    break
        if analyzer is None and not parts:
            self.emit(ev.Cue, exercise=step.exercise, cue="no_data", text="No data from the sensor.")
            return
        if analyzer is not None:
            try:
                parts.append(analyzer.finish())
            except Exception:
                self._analysis_failed(step.exercise)
                parts.append(_partial_result(analyzer))
        # the walk ended at "stop", or earlier when the samples did (a recording replayed, a link
        # that ended) or the person stopped walking for good (idle)
        end_t = stop_t if stop_t is not None else last_t
        walk = walk_summary(step, parts, t0=t0, end_t=end_t)
        if step.trials > 1:  # one trial of a test done several times: the score is their mean
            if step.trial == 1:
                self._trial_times = []
            self._trial_times.append(walk["test_time_s"] if walk["test_done"] else None)
            if step.trial == step.trials:
                walk["trial_times_s"] = list(self._trial_times)
                walk["test_mean_s"] = _rf(trials_mean(self._trial_times))
        self.walk = walk
        self.emit(ev.Walk, **walk)

    def _check_sensor(self, block: SampleBlock, exercise: str) -> None:
        """Once per session, on its first SENSOR_CHECK_S of samples: a flat sensor (a dead chip
        reads the same value for ever) or an accelerometer far from gravity at rest (the
        wearable's full scale set wrong) gets a cue, instead of a set that silently counts 0."""
        check = self._sensor_check
        if check is None:
            return
        check.add(block.t_s, block.acc_m_s2, block.gyr_rad_s)
        self._sensor_check_s += float(block.t_s[-1] - block.t_s[0]) + 1.0 / max(block.fs, 1.0)
        if self._sensor_check_s < SENSOR_CHECK_S:
            return
        self._sensor_check = None
        problem = check.problem(uses_gyro=get(exercise).analysis != "sway", judge_rotation=False)
        if problem:
            log.warning("the sensor's readings look wrong: %s", problem)
            self.emit(ev.Cue, exercise=exercise, cue="sensor",
                      text="The sensor's readings look wrong. Check that it is switched on and "
                           "strapped in place.")

    def _analysis_failed(self, exercise: str) -> None:
        """Log (the first with its traceback) and count an exception from an analyzer."""
        self.analysis_errors += 1
        if self.analysis_errors == 1:
            log.exception("%s analysis failed; carrying on with a fresh analyzer (please report "
                          "this)", exercise)
        else:
            log.warning("%s analysis failed again (%d times)", exercise, self.analysis_errors)

    def _summary(self, started: float, complete: bool) -> dict:
        steps = []
        for step, sets in self.results:
            if step.analysis != "reps":
                continue
            steps.append({"exercise": step.exercise, "target_reps": step.reps, "hold_target_s": step.hold_s,
                          "sets": [s.summary() for s in sets]})
        return {
            "routine": self.routine.name,
            "started_at": round(started, 3),
            "duration_s": round(time.time() - started, 1),
            "complete": complete,
            "steps": steps,
            "sway": self.sway,
            "walk": None if self.walk is None else {
                k: v for k, v in self.walk.items() if k not in ("bouts", "stride_list")},
            "lost_packets": self.lost_packets,
            "analysis_errors": self.analysis_errors,
        }


def _stride_json(s: Any) -> dict:
    """One stride as published and recorded: times on the sensor clock (s), length (m), turn (deg)."""
    return {"t_start": _rf(s.t_start, 3), "t_end": _rf(s.t_end, 3), "time_s": _rf(s.time_s, 3),
            "length_m": _rf(s.length_m, 3), "stance_s": _rf(s.stance_s, 3), "swing_s": _rf(s.swing_s, 3),
            "turn_deg": _rf(s.turn_deg, 1)}


def _bout_json(b: Any) -> dict:
    return {"t_start": _rf(b.t_start, 3), "t_end": _rf(b.t_end, 3), "strides": int(b.strides),
            "cadence_spm": _rf(b.cadence_spm, 1), "stride_time_s": _rf(b.stride_time_s, 3),
            "stride_time_cv": _rf(b.stride_time_cv, 4), "stance_frac": _rf(b.stance_frac, 3),
            "stride_length_m": _rf(b.stride_length_m, 3), "speed_m_s": _rf(b.speed_m_s, 3),
            "distance_m": _rf(b.distance_m, 2), "turns": int(b.turns)}


@dataclass(frozen=True)
class _Partial:
    """What a failed analyzer still knows: its strides so far (its bouts are lost)."""

    strides: list
    bouts: tuple = ()


def _partial_result(analyzer: Any) -> _Partial:
    return _Partial(list(getattr(analyzer, "strides_", None) or []))


def walk_summary(step: Step, parts: list, *, t0: float, end_t: float) -> dict:
    """The ``walk`` event of a walk step from its analysis results (one, or several when an
    analyzer failed and a fresh one went on): totals, the timed test's result, bouts, strides.
    t0: sensor time of "go"; end_t: sensor time of "stop" (s)."""
    strides = [s for r in parts for s in r.strides]
    bouts = [b for r in parts for b in r.bouts]
    t = totals(strides, bouts)
    test_time = test_distance = None
    done = None
    if step.target_m is not None:  # a distance to walk: how long it took
        test_time = time_to(strides, step.target_m)
        done = test_time is not None
        test_distance = step.target_m if done else t.distance_m
    elif step.test is not None:  # a time to walk: how far
        test_time = step.duration_s
        test_distance = distance_by(strides, t0 + (step.duration_s or 0.0))
        done = end_t - t0 >= (step.duration_s or 0.0) - 0.5
    return {
        "exercise": step.exercise,
        "test": step.test,
        "trial": step.trial,
        "trials": step.trials,
        "duration_s": _rf(end_t - t0, 1),
        "walking_s": _rf(t.walking_s, 1),
        "distance_m": _rf(t.distance_m, 2),
        "speed_m_s": _rf(t.speed_m_s, 3),
        "cadence_spm": _rf(t.cadence_spm, 1),
        "strides": t.strides,
        "stride_time_s": _rf(t.stride_time_s, 3),
        "stride_time_cv": _rf(t.stride_time_cv, 4),
        "stance_frac": _rf(t.stance_frac, 3),
        "stride_length_m": _rf(t.stride_length_m, 3),
        "turns": t.turns,
        "test_time_s": _rf(test_time, 2),
        "test_distance_m": _rf(test_distance, 2),
        "test_done": done,
        "bouts": [_bout_json(b) for b in bouts],
        "stride_list": [_stride_json(s) for s in strides],
    }


def _host_time(block: SampleBlock, t_s: float) -> float | None:
    """Host wall-clock time of the sample at sensor time t_s, from the block's clock mapping."""
    if block.t_host_s is None or len(block) == 0:
        return None
    return float(block.t_host_s[-1] - (block.t_s[-1] - t_s))
