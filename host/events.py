"""Coach events: what the session runner tells its sinks (MQTT, speech, console) and the recorder.

Every event is one frozen :class:`Event`; ``data`` is a JSON-serialisable dict whose fields per
kind are listed in KINDS and documented in the README (MQTT section).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# kind -> the fields its `data` carries (all kinds also carry `session_id` and `device_id`).
KINDS: dict[str, tuple[str, ...]] = {
    "session_start": ("routine", "steps", "source"),
    "step_start": ("exercise", "title", "set", "sets", "target_reps", "hold_target_s", "placement",
                   "duration_s", "test", "target_m", "trial", "trials"),
    "countdown": ("exercise", "seconds"),  # "starting in 3, 2, 1, go" (seconds 3, 2, 1, 0)
    "rep_start": ("exercise", "kind", "set"),
    "rep": ("exercise", "kind", "count", "set", "amplitude_deg", "depth_deg", "hold_s",
            "hold_target_s", "hold_met", "t_start", "t_peak", "t_end"),
    "hold_start": ("exercise", "kind", "target_s", "count"),
    "hold_tick": ("exercise", "kind", "held_s", "remaining_s"),
    "hold_done": ("exercise", "kind", "held_s", "target_s"),
    "cue": ("exercise", "cue", "text"),
    "set_complete": ("exercise", "set", "sets", "reps"),
    "rest": ("seconds",),  # and walk_back: between the trials of a timed walk
    "sway": ("exercise", "metrics"),
    # a walk: each stride as it completes, the distance every minute, then its result
    "walk_progress": ("exercise", "test", "strides", "distance_m", "elapsed_s", "stride"),
    "walk_minute": ("exercise", "test", "minute", "distance_m", "strides"),
    "walk": ("exercise", "test", "trial", "trials", "duration_s", "walking_s", "distance_m", "speed_m_s",
             "cadence_spm", "strides", "stride_time_s", "stride_time_cv", "stance_frac",
             "stride_length_m", "turns", "test_time_s", "test_distance_m", "test_done", "bouts",
             "stride_list"),  # after a test's last trial also trial_times_s, test_mean_s
    "step_end": ("exercise", "set", "reps"),
    "link": ("state", "gap_s", "lost_packets"),
    "session_end": ("summary", "complete"),
}


@dataclass(frozen=True)
class Event:
    """One thing that happened in a session.

    kind: one of KINDS. t_s: host wall-clock time (unix seconds) when it happened.
    data: the kind's fields, JSON-serialisable (floats rounded by the producer).
    """

    kind: str
    t_s: float
    data: dict = field(default_factory=dict)


class Sink(Protocol):
    """Anything that consumes events. `handle` must return quickly (never block analysis)."""

    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...
