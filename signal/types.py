"""Results of the analysis: reps, live rep events and sway metrics (frozen, units in names)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Rep:
    """One repetition. Times in seconds on the recording's own clock.

    amplitude_deg: the largest angle away from the exercise's rest posture, tremor (>~2 Hz)
    removed; for slides it is the depth (thigh inclination from vertical at its deepest).
    hold_s: time spent at or beyond 80% of this rep's own amplitude.
    """

    kind: str  # heel_raise | toe_raise | lift | slide
    t_start: float
    t_peak: float
    t_end: float
    amplitude_deg: float
    hold_s: float

    def to_json(self) -> dict:
        from movecoach.signal.exercises import KIND_EXERCISE, get

        d = asdict(self)
        size = get(KIND_EXERCISE[self.kind]).size_field
        if size != "amplitude_deg":  # a slide's size is its depth
            d[size] = d.pop("amplitude_deg")
        return d


@dataclass(frozen=True)
class RepEvent:
    """A live event from a streaming rep analyzer.

    kind: 'rep_start' | 'rep_peak' | 'hold_tick' | 'rep_end'. t_s: sample time (s) that caused it.
    rep_kind: heel_raise | toe_raise | lift | slide.
    count: completed reps of rep_kind so far (including this one on 'rep_end').
    angle_deg: current angle from rest; hold_s: time held so far (final hold on 'rep_end').
    rep: the finished Rep on 'rep_end', else None.
    """

    kind: str
    t_s: float
    rep_kind: str
    count: int
    angle_deg: float
    hold_s: float
    rep: Rep | None = None


@dataclass(frozen=True)
class SwayMetrics:
    """Postural sway of one quiet-standing trial, from trunk (lower back) acceleration.

    AP = forward, ML = left, orthogonal to the trial's mean gravity direction, 3.5 Hz zero-phase
    low-passed. Units: m/s^2 (rms_*, range_*), m/s^2 (path_length, summed sample distances),
    m/s^3 (mean_velocity = path_length / duration), m^2/s^5 (jerk), (m/s^2)^2 (ellipse_area_95),
    Hz (centroid_freq_*), s (duration_s).
    """

    rms_ap: float
    rms_ml: float
    rms: float
    range_ap: float
    range_ml: float
    path_length: float
    mean_velocity: float
    jerk: float
    ellipse_area_95: float
    centroid_freq_ap: float
    centroid_freq_ml: float
    duration_s: float

    def to_json(self) -> dict:
        return asdict(self)
