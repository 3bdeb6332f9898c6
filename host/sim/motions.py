"""Scripted whole-recording motions of one body segment: the exercise reps plus distractors.

Each builder returns a :class:`Motion`: the segment pose on a fine grid (orientation R(t) and the
sensor position p(t) in the world, x forward, y left, z up) plus where the reps and distractors
are. Segments rotate about real pivots:

- foot (heel-toe): the foot pitches about the metatarsal heads (heel raise, toes down,
  pitch > 0) or about the heel (toe raise, toes up, pitch < 0); walking, turning and stepping
  move and yaw the whole foot.
- thigh (march, wall-slide): flexion alpha is the thigh inclination from vertical (0 standing,
  ~90 deg seated); the thigh rotates about the hip (march lifts) or about the knee while the hip
  slides down the wall (wall slides, knee/ankle geometry solved exactly).
- lower back (sway): an inverted pendulum about the ankles with small trunk rotations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from movecoach.sim.conditions import Conditions
from movecoach.sim.kinematics import min_jerk, rot_x, rot_y, rot_z
from movecoach.sim.timeline import Impact, RepMark, SpanMark, Timeline

log = logging.getLogger(__name__)

D2R = np.pi / 180.0

# Sensor frames in their segment frame at the rest posture (columns: sensor x, y, z in the world).
# Foot: +x toward the toes, +z up out of the top of the foot (identity).
FOOT_MOUNT = Rotation.identity()
# Thigh (front of the thigh): +x along the thigh toward the hip, +z out of the skin (forward
# when standing), +y = z cross x (to the right).
THIGH_MOUNT = Rotation.from_matrix([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
# Lower back: +x up, +y left, +z backward (out of the back).
BACK_MOUNT = Rotation.from_matrix([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


@dataclass(frozen=True)
class Body:
    """Segment geometry (m) and personal style of the simulated person."""

    toe_m: float = 0.15  # sensor to metatarsal heads (forward)
    heel_m: float = 0.08  # sensor to heel contact (backward)
    foot_height_m: float = 0.06  # sensor above the floor at rest
    thigh_m: float = 0.44  # hip to knee
    shank_m: float = 0.45  # knee to ankle (floor)
    thigh_radius_m: float = 0.075  # thigh axis to skin at the sensor
    sensor_along_thigh: float = 0.5  # fraction of the thigh from the hip
    wall_foot_m: float = 0.10  # ankle in front of the hip line when standing at the wall
    seat_m: float = 0.47  # hip height seated
    back_height_m: float = 1.0  # ankle axis to the lower-back sensor

    @staticmethod
    def draw(rng: np.random.Generator, vary: bool) -> Body:
        if not vary:
            return Body()
        k = rng.uniform(0.88, 1.12)  # overall size
        return Body(
            toe_m=0.15 * k * rng.uniform(0.9, 1.1),
            heel_m=0.08 * k * rng.uniform(0.85, 1.15),
            foot_height_m=0.06 * rng.uniform(0.85, 1.15),
            thigh_m=0.44 * k,
            shank_m=0.45 * k,
            thigh_radius_m=rng.uniform(0.06, 0.10),
            sensor_along_thigh=rng.uniform(0.35, 0.7),
            wall_foot_m=rng.uniform(0.05, 0.18),
            seat_m=0.47 * k * rng.uniform(0.95, 1.05),
            back_height_m=1.0 * k,
        )


@dataclass
class Motion:
    """A scripted motion on the grid t_s = arange(n) / fs_hz.

    rot: (n,) segment orientation (segment -> world); pos_m: (n, 3) sensor position in the world;
    acc_extra_m_s2: (n, 3) impact transients (world); mount: sensor frame in the segment frame;
    tremor: channel -> weight: tremor (rad) is added to these joint channels, so the segment
    shakes about its real joint (ankle/toes, hip); empty: no tremor for this segment;
    pose: channels -> (rot, pos_m), to recompute the pose with tremor added;
    reps/spans: the scripted reps and distractors; channels: the joint/pose channels;
    wobble: channel -> weight: the natural unsteadiness (Conditions.wobble_deg) goes on these.
    """

    exercise: str
    fs_hz: float
    rot: Rotation
    pos_m: np.ndarray
    acc_extra_m_s2: np.ndarray
    mount: Rotation
    tremor: dict[str, float]
    pose: Callable[[dict[str, np.ndarray]], tuple[Rotation, np.ndarray]]
    reps: list[RepMark]
    spans: list[SpanMark]
    channels: dict[str, np.ndarray]
    info: dict = field(default_factory=dict)
    wobble: dict[str, float] = field(default_factory=dict)  # channel -> weight of the wobble (rad)

    @property
    def n(self) -> int:
        return len(self.pos_m)


@dataclass
class _Plan:
    """Which distractors go before, between (before rep index) and after the set."""

    before: list[str]
    between: dict[int, list[str]]
    after: list[str]


def _plan_distractors(names: tuple[str, ...], n_reps: int, rng: np.random.Generator,
                      place: dict[str, tuple[str, ...]]) -> _Plan:
    plan = _Plan([], {}, [])
    for name in names:
        where = str(rng.choice(place.get(name, ("before", "between", "after"))))
        if where == "between" and n_reps >= 2:
            i = int(rng.integers(1, n_reps))
            plan.between.setdefault(i, []).append(name)
        elif where == "after":
            plan.after.append(name)
        else:
            plan.before.append(name)
    # the order people do things in: stand up / sit down around walking and turning
    order = {"sit_stand": 0, "walk": 1, "turn": 2, "step": 3, "weight_shift": 4, "fidget": 5}
    plan.before.sort(key=order.get)
    plan.after.sort(key=lambda d: -order[d])
    return plan


class _Style:
    """Per-rep amplitude, speed and hold for a person with fatigue over the set."""

    def __init__(self, cond: Conditions, rng: np.random.Generator, n: int):
        self.cond = cond
        self.rng = rng
        self.n = max(1, n)

    def progress(self, i: int) -> float:
        return i / (self.n - 1) if self.n > 1 else 0.0

    def amplitude(self, mean: float, lo: float, hi: float, i: int) -> float:
        c = self.cond
        a = mean * c.amplitude_scale * (1.0 + c.amplitude_spread * self.rng.standard_normal())
        a *= 1.0 - 0.2 * c.fatigue * self.progress(i)
        return float(np.clip(a, lo, hi))

    def duration(self, typical_s: float, i: int) -> float:
        c = self.cond
        return typical_s / c.speed * (1.0 + 0.4 * c.fatigue * self.progress(i)) * self.rng.uniform(0.85, 1.15)

    def hold(self, typical_s: float, i: int) -> float:
        return typical_s * (1.0 - 0.5 * self.cond.fatigue * self.progress(i))


def _settle_s(cond: Conditions, rng: np.random.Generator) -> float:
    """How long the person stands or sits still after a distractor before going on."""
    return rng.uniform(0.1, 0.5) if cond.rhythmic else rng.uniform(1.5, 3.0)


# time spent above 80 % of the way during a minimum-jerk ramp, as a fraction of the ramp
_ABOVE_80 = 1.0 - 0.6734


def _rep(tl: Timeline, kind: str, channel: str, rest: float, peak: float, rise_s: float,
         hold_s: float, lower_s: float, sag: float, also: dict[str, float] | None = None) -> None:
    """Script one rep: rise to peak, hold (sagging by `sag` of the amplitude), return to rest.

    The plateau is shortened so the time at or beyond 80 % of the amplitude is about hold_s.
    also: other channels' peak offsets during the rep (e.g. a little foot roll), back at the end.
    """
    also = also or {}
    start = {k: tl.state[k] for k in also}
    i0 = tl.n - 1
    tl.move(rise_s, **{channel: peak}, **{k: start[k] + v for k, v in also.items()})
    plateau = hold_s - _ABOVE_80 * (rise_s + lower_s)
    if plateau >= 0.5:  # a slow sag (full size after 2 s), never a jerk
        tl.move(plateau, **{channel: peak - sag * min(1.0, plateau / 2.0) * (peak - rest)})
    else:
        tl.hold(plateau)
    tl.move(lower_s, **{channel: rest}, **start)
    tl.reps.append(RepMark(kind, i0, tl.n - 1, channel, rest, 1.0 if peak > rest else -1.0))


# ----------------------------------------------------------------------------------------------
# Foot (heel-toe)


def _foot_pose(ch: dict[str, np.ndarray], body: Body) -> tuple[Rotation, np.ndarray]:
    pitch, roll, yaw = ch["pitch"], ch["roll"], ch["yaw"]
    local = rot_y(pitch) * rot_x(roll)
    heading = rot_z(yaw)
    # pivot channel: 1 = metatarsal heads (heel raises), 0 = heel (toe raises, heel rocker); it
    # moves (smoothly) only while the foot is flat or in the air
    toe = np.array([body.toe_m, 0.0, -body.foot_height_m])
    heel = np.array([-body.heel_m, 0.0, -body.foot_height_m])
    c = heel + np.outer(ch["pivot"], toe - heel)
    p_local = c - local.apply(c)
    pos = np.column_stack([ch["x"], ch["y"], ch["z"]]) + heading.apply(p_local)
    return heading * local, pos


def _foot_walk(tl: Timeline, rng: np.random.Generator, cond: Conditions, steps: int) -> None:
    """Strides of the instrumented foot (~0.8-1 Hz, slow like many people with MS): stance, heel
    off rolling over the toes, swing (forward 0.7-1.2 m, lifted), heel strike, foot flat."""
    speed = float(np.clip(cond.speed, 0.85, 1.15))
    for _ in range(steps):
        period = rng.uniform(1.05, 1.3) / speed
        stride = rng.uniform(0.7, 1.2) * speed
        yaw = tl.state["yaw"]
        tl.hold(0.35 * period - 0.2)  # stance while the other foot swings ...
        tl.move(0.2, pivot=1.0)  # ... (the foot is flat: only which pivot comes next changes)
        tl.move(0.15 * period, pitch=rng.uniform(30, 45) * D2R)  # heel off, rolling over the toes
        tl.move_bump(0.4 * period, {"z": rng.uniform(0.05, 0.09)},
                     x=tl.state["x"] + stride * np.cos(yaw), y=tl.state["y"] + stride * np.sin(yaw),
                     pitch=-rng.uniform(12, 22) * D2R, pivot=0.0)  # swing; lands on the heel, toes up
        tl.impact(rng.uniform(20, 40), (-0.3, 0.0, 1.0), freq_hz=rng.uniform(20, 35))
        tl.move(0.1 * period, pitch=0.0)  # foot flat
    tl.hold(0.3)


def _foot_turn(tl: Timeline, rng: np.random.Generator, cond: Conditions) -> None:
    total = rng.choice([-1, 1]) * rng.uniform(90, 180) * D2R
    n = int(rng.integers(2, 4))
    for _ in range(n):
        tl.move_bump(rng.uniform(0.45, 0.7), {"z": rng.uniform(0.02, 0.05), "pitch": rng.uniform(-8, 8) * D2R},
                     yaw=tl.state["yaw"] + total / n,
                     x=tl.state["x"] + rng.uniform(-0.08, 0.08), y=tl.state["y"] + rng.uniform(-0.08, 0.08))
        tl.impact(rng.uniform(6, 15), (0.0, 0.0, 1.0))
        tl.hold(rng.uniform(0.2, 0.5))


def _foot_step(tl: Timeline, rng: np.random.Generator, cond: Conditions) -> None:
    for _ in range(int(rng.integers(1, 3))):
        ang = rng.uniform(0, 2 * np.pi)
        d = rng.uniform(0.08, 0.25)
        tl.move_bump(rng.uniform(0.5, 0.8), {"z": rng.uniform(0.03, 0.06)},
                     x=tl.state["x"] + d * np.cos(ang), y=tl.state["y"] + d * np.sin(ang),
                     yaw=tl.state["yaw"] + rng.uniform(-15, 15) * D2R)
        tl.impact(rng.uniform(6, 15), (0.0, 0.0, 1.0))
        tl.hold(rng.uniform(0.3, 0.8))


def _foot_fidget(tl: Timeline, rng: np.random.Generator, cond: Conditions) -> None:
    for _ in range(int(rng.integers(2, 5))):
        if rng.random() < 0.5:  # rolling onto the outer edge of the foot and back
            tl.move(rng.uniform(0.25, 0.5), roll=rng.choice([-1, 1]) * rng.uniform(4, 10) * D2R)
            tl.move(rng.uniform(0.25, 0.5), roll=0.0)
        else:  # a quick toe tap
            tl.move(0.2, pivot=0.0)
            tl.move(rng.uniform(0.15, 0.25), pitch=-rng.uniform(3, 6) * D2R)
            tl.move(rng.uniform(0.12, 0.2), pitch=0.0)
            tl.impact(rng.uniform(3, 8), (0.0, 0.0, 1.0))
        tl.hold(rng.uniform(0.1, 0.5))


def _foot_weight_shift(tl: Timeline, rng: np.random.Generator, cond: Conditions) -> None:
    tl.move(rng.uniform(1.0, 2.0), roll=rng.choice([-1, 1]) * rng.uniform(2, 5) * D2R,
            pitch=rng.uniform(-1.5, 1.5) * D2R)
    tl.hold(rng.uniform(1.0, 3.0))
    tl.move(rng.uniform(1.0, 2.0), roll=0.0, pitch=0.0)


def _foot_sit(tl: Timeline, rng: np.random.Generator, down: bool) -> None:
    """Sitting down or standing up seen from the foot: it slides a little and rocks."""
    d = rng.uniform(0.05, 0.18) * (1 if down else -1)
    yaw = tl.state["yaw"]
    tl.move(rng.uniform(0.6, 1.0), x=tl.state["x"] + d * np.cos(yaw), y=tl.state["y"] + d * np.sin(yaw),
            pitch=rng.uniform(-4, 4) * D2R)
    tl.move(rng.uniform(0.3, 0.6), pitch=0.0)


def build_heel_toe(reps: int, rng: np.random.Generator, cond: Conditions, body: Body, fs_hz: float,
                   hold_s: float | None, pattern: str) -> Motion:
    """reps heel raises and reps toe raises ("alternate": heel, toe, heel, ...; "blocked": all heel
    raises, then all toe raises)."""
    if pattern not in ("alternate", "blocked"):
        raise ValueError(f"pattern must be 'alternate' or 'blocked', got {pattern!r}")
    tl = Timeline(fs_hz, x=0.0, y=0.0, z=0.0, yaw=0.0, pitch=0.0, roll=0.0, pivot=1.0)
    kinds = (["heel_raise", "toe_raise"] * reps if pattern == "alternate"
             else ["heel_raise"] * reps + ["toe_raise"] * reps)
    plan = _plan_distractors(cond.distractors, len(kinds), rng,
                             {"sit_stand": ("before", "after"), "walk": ("before", "after", "between")})
    if pattern == "blocked" and plan.between:  # between the two blocks is the natural place
        plan.between = {reps: [d for v in plan.between.values() for d in v]}
    heel_mean = rng.uniform(20, 30) * D2R
    toe_mean = rng.uniform(14, 20) * D2R
    hold_mean = {"heel_raise": rng.uniform(1.5, 2.5), "toe_raise": rng.uniform(1.0, 2.0)}
    style = {k: _Style(cond, rng, kinds.count(k)) for k in ("heel_raise", "toe_raise")}
    done = {"heel_raise": 0, "toe_raise": 0}

    def distract(name: str) -> None:
        i0 = tl.n - 1
        if name == "walk":
            _foot_walk(tl, rng, cond, int(rng.integers(2, 5)))
        elif name == "turn":
            _foot_turn(tl, rng, cond)
        elif name == "step":
            _foot_step(tl, rng, cond)
        elif name == "fidget":
            _foot_fidget(tl, rng, cond)
        elif name == "weight_shift":
            _foot_weight_shift(tl, rng, cond)
        elif name == "sit_stand":
            _foot_sit(tl, rng, down=True)
            tl.hold(rng.uniform(3, 8))
            _foot_sit(tl, rng, down=False)
        tl.spans.append(SpanMark(name, i0, tl.n - 1))
        tl.hold(_settle_s(cond, rng))

    tl.hold(rng.uniform(2.0, 3.5))
    for name in plan.before:
        distract(name)
    for i, kind in enumerate(kinds):
        for name in plan.between.get(i, []):
            distract(name)
        st = style[kind]
        j = done[kind]
        done[kind] += 1
        if hold_s is not None:
            hold = hold_s
        elif cond.rhythmic:  # one raise after another, barely held
            hold = rng.uniform(0.0, 0.5)
        else:
            hold = hold_mean[kind] + rng.uniform(-0.3, 0.3)
        shift = rng.uniform(0.05, 0.15) if cond.rhythmic else 0.2
        if kind == "heel_raise":
            peak = st.amplitude(heel_mean, 13 * D2R, 38 * D2R, j)
            tl.move(shift, pivot=1.0)  # up onto the balls of the foot
        else:
            peak = -st.amplitude(toe_mean, 11 * D2R, 27 * D2R, j)  # >= 10 deg: the rule's threshold
            tl.move(shift, pivot=0.0)  # back onto the heels
        move_s = 0.6 if cond.rhythmic else 0.9
        _rep(tl, kind, "pitch", 0.0, peak, st.duration(move_s, j), st.hold(max(hold, 0.0), j),
             st.duration(move_s, j), rng.uniform(0.0, 0.06),
             also={"roll": rng.uniform(-0.08, 0.08) * abs(peak)})
        tl.hold(rng.uniform(0.05, 0.4) if cond.rhythmic else st.duration(1.2, j))
    for name in plan.after:
        distract(name)
    tl.hold(rng.uniform(1.5, 3.0))
    ch = tl.arrays()

    def pose(c: dict[str, np.ndarray]) -> tuple[Rotation, np.ndarray]:
        return _foot_pose(c, body)

    rot, pos = pose(ch)
    # a standing foot rolls and rocks a little (ankle and toes), mostly sideways
    return Motion("heel-toe", fs_hz, rot, pos, tl.impact_acc_world(), FOOT_MOUNT,
                  {"pitch": 1.0, "roll": 0.2}, pose, tl.reps, tl.spans, ch,
                  wobble={"roll": 1.0, "pitch": 0.4})


# ----------------------------------------------------------------------------------------------
# Thigh (march, wall-slide)


def _thigh_pose(ch: dict[str, np.ndarray], body: Body, roll_rad: float) -> tuple[Rotation, np.ndarray]:
    seg = rot_z(ch["yaw"]) * rot_y(-ch["flex"]) * rot_x(ch["abd"])
    r = body.thigh_radius_m
    r_s = np.array([r * np.cos(roll_rad), r * np.sin(roll_rad), -body.sensor_along_thigh * body.thigh_m])
    pos = np.column_stack([ch["hx"], ch["hy"], ch["hz"]]) + seg.apply(r_s)
    return seg, pos


class _Thigh:
    """Builds thigh motions; tracks whether the person is seated or standing."""

    def __init__(self, tl: Timeline, rng: np.random.Generator, cond: Conditions, body: Body, seated: bool,
                 seat_flex: float):
        self.tl, self.rng, self.cond, self.body = tl, rng, cond, body
        self.seated = seated
        self.seat_flex = seat_flex

    def _fwd(self) -> tuple[float, float]:
        y = self.tl.state["yaw"]
        return float(np.cos(y)), float(np.sin(y))

    def stand_up(self) -> None:
        tl, rng, b = self.tl, self.rng, self.body
        fx, fy = self._fwd()
        d = rng.uniform(0.15, 0.3)
        # trunk leans forward first (thigh still), then hips rise and the thigh swings to vertical
        tl.hold(rng.uniform(0.3, 0.6))
        tl.move(rng.uniform(1.2, 1.8) / np.clip(self.cond.speed, 0.7, 1.3), flex=rng.uniform(-2, 3) * D2R,
                hz=b.thigh_m + b.shank_m * rng.uniform(0.97, 1.0), hx=tl.state["hx"] + d * fx,
                hy=tl.state["hy"] + d * fy, abd=0.0)
        tl.move(0.4, flex=0.0)
        self.seated = False

    def sit_down(self) -> None:
        tl, rng, b = self.tl, self.rng, self.body
        fx, fy = self._fwd()
        d = rng.uniform(0.15, 0.3)
        self.seat_flex = float(np.clip(self.seat_flex + rng.normal(0, 2.0) * D2R, 78 * D2R, 100 * D2R))
        tl.move(rng.uniform(0.9, 1.4), flex=self.seat_flex, hz=b.seat_m, hx=tl.state["hx"] - d * fx,
                hy=tl.state["hy"] - d * fy)
        tl.impact(rng.uniform(8, 18), (0.0, 0.0, 1.0), freq_hz=rng.uniform(8, 15), tau_s=0.04)
        tl.hold(rng.uniform(0.5, 1.0))
        self.seated = True

    def walk(self, steps: int) -> None:
        """Thigh swing cycles (~1 Hz) with the hip moving forward, bobbing, and heel strikes."""
        if self.seated:
            self.stand_up()
            self.tl.hold(self.rng.uniform(0.3, 0.8))
        tl, rng = self.tl, self.rng
        period = rng.uniform(1.0, 1.2) / float(np.clip(self.cond.speed, 0.7, 1.4))
        v = rng.uniform(0.7, 1.2)
        dur = steps * period / 2 + period
        m = tl.samples(dur)
        t = np.arange(1, m + 1) / tl.fs_hz
        ramp = min(tl.samples(0.6 * period), m // 3)
        env = np.ones(m)
        ramp_up = np.concatenate([[0.0], min_jerk(ramp - 1)])
        env[:ramp] = ramp_up
        env[-ramp:] = ramp_up[::-1]
        ph = 2 * np.pi * t / period
        flex = env * (rng.uniform(6, 10) * D2R + rng.uniform(15, 20) * D2R * np.sin(ph))
        fx, fy = self._fwd()
        dist = np.cumsum(env) * v / tl.fs_hz
        bob = env * 0.02 * (1 - np.cos(2 * ph)) / 2
        side = env * 0.02 * np.sin(ph)
        abd = env * 3 * D2R * np.sin(ph)
        s = tl.state
        i0 = tl.n - 1
        tl.add(m, {"flex": s["flex"] + flex, "hx": s["hx"] + dist * fx - side * fy, "hy": s["hy"] + dist * fy + side * fx,
                   "hz": s["hz"] - bob, "abd": s["abd"] + abd})
        # heel strikes of both legs, twice per stride (the instrumented leg's just after its
        # peak hip flexion at a quarter period)
        for k in range(int(dur / (period / 2))):
            ik = int(round((k * period / 2 + 0.3 * period) * tl.fs_hz))
            if ramp <= ik < m - ramp:
                tl.impacts.append(_impact_at(tl, i0 + ik, rng.uniform(5, 12) if k % 2 == 0 else rng.uniform(3, 7)))
        tl.hold(0.3)

    def turn(self) -> None:
        if self.seated:  # seated turning: twisting on the chair
            self.tl.move(self.rng.uniform(0.8, 1.5), yaw=self.tl.state["yaw"] + self.rng.uniform(-30, 30) * D2R,
                         abd=self.rng.uniform(-6, 6) * D2R)
            self.tl.hold(self.rng.uniform(0.5, 1.5))
            self.tl.move(self.rng.uniform(0.8, 1.5), yaw=self.tl.state["yaw"] + self.rng.uniform(-10, 10) * D2R, abd=0.0)
            return
        tl, rng = self.tl, self.rng
        total = rng.choice([-1, 1]) * rng.uniform(90, 180) * D2R
        n = int(rng.integers(2, 4))
        for _ in range(n):
            tl.move_bump(rng.uniform(0.5, 0.8), {"flex": rng.uniform(5, 12) * D2R}, yaw=tl.state["yaw"] + total / n)
            tl.impact(rng.uniform(3, 6), (0.0, 0.0, 1.0))
            tl.hold(rng.uniform(0.1, 0.4))

    def step(self) -> None:
        tl, rng = self.tl, self.rng
        if self.seated:  # shuffling the foot forward or back: the thigh tips a few degrees
            tl.move(rng.uniform(0.4, 0.7), flex=self.seat_flex + rng.uniform(-6, 4) * D2R)
            tl.hold(rng.uniform(0.5, 2.0))
            tl.move(rng.uniform(0.4, 0.7), flex=self.seat_flex)
            return
        for _ in range(int(rng.integers(1, 3))):
            ang = rng.uniform(0, 2 * np.pi)
            d = rng.uniform(0.08, 0.2)
            tl.move_bump(rng.uniform(0.5, 0.8), {"flex": rng.uniform(6, 14) * D2R},
                         hx=tl.state["hx"] + d * np.cos(ang), hy=tl.state["hy"] + d * np.sin(ang))
            tl.impact(rng.uniform(3, 6), (0.0, 0.0, 1.0))
            tl.hold(rng.uniform(0.3, 0.8))

    def fidget(self) -> None:
        tl, rng = self.tl, self.rng
        if self.seated and rng.random() < 0.6:  # knee bouncing: the heel bobs, the thigh jiggles
            dur = rng.uniform(2.0, 4.0)
            m = tl.samples(dur)
            t = np.arange(1, m + 1) / tl.fs_hz
            env = np.sin(np.pi * t / dur) ** 4
            f = rng.uniform(3.0, 5.0)
            tl.add(m, {"flex": tl.state["flex"] + env * rng.uniform(1.5, 3.0) * D2R * np.sin(2 * np.pi * f * t)})
            return
        for _ in range(int(rng.integers(2, 4))):  # shifting the leg: rotating and rocking it
            tl.move(rng.uniform(0.3, 0.6), abd=rng.uniform(-6, 6) * D2R, yaw=tl.state["yaw"] + rng.uniform(-8, 8) * D2R,
                    flex=tl.state["flex"] + rng.uniform(-3, 3) * D2R)
            tl.hold(rng.uniform(0.1, 0.4))
        tl.move(rng.uniform(0.4, 0.7), abd=0.0, flex=self.seat_flex if self.seated else 0.0)

    def weight_shift(self) -> None:
        tl, rng = self.tl, self.rng
        fx, fy = self._fwd()
        d = rng.choice([-1, 1]) * rng.uniform(0.02, 0.05)
        hx0, hy0 = tl.state["hx"], tl.state["hy"]
        tl.move(rng.uniform(1.0, 2.0), hx=hx0 - d * fy, hy=hy0 + d * fx, abd=np.sign(d) * rng.uniform(2, 5) * D2R)
        tl.hold(rng.uniform(1.0, 3.0))
        tl.move(rng.uniform(1.0, 2.0), hx=hx0, hy=hy0, abd=0.0)

    def change_posture(self, action) -> None:
        """Stand up or sit down once (action: self.stand_up or self.sit_down), marked on the
        timeline as a 'sit_stand' distractor (never a rep)."""
        i0 = self.tl.n - 1
        action()
        self.tl.spans.append(SpanMark("sit_stand", i0, self.tl.n - 1))

    def do(self, name: str) -> None:
        i0 = self.tl.n - 1
        if name == "sit_stand":
            if self.seated:
                self.stand_up()
                self.tl.hold(self.rng.uniform(2.0, 5.0))
                self.sit_down()
            else:
                self.sit_down()
                self.tl.hold(self.rng.uniform(3.0, 8.0))
                self.stand_up()
        else:
            getattr(self, name if name != "walk" else "_walk_some")()
        self.tl.spans.append(SpanMark(name, i0, self.tl.n - 1))
        self.tl.hold(_settle_s(self.cond, self.rng))

    def _walk_some(self) -> None:
        self.walk(int(self.rng.integers(3, 7)))


def _impact_at(tl: Timeline, i: int, amp: float) -> Impact:
    return Impact(i / tl.fs_hz, amp, (0.2, 0.0, 1.0), 20.0, 0.02)


def build_march(reps: int, rng: np.random.Generator, cond: Conditions, body: Body, fs_hz: float,
                hold_s: float | None) -> Motion:
    """Seated marching: reps lifts of the instrumented thigh (the other leg lifts in between)."""
    seat_flex = rng.uniform(82, 98) * D2R
    plan = _plan_distractors(cond.distractors, reps, rng,
                             {"sit_stand": ("before", "after"), "walk": ("before", "after")})
    standing_start = any(d in ("walk", "sit_stand") for d in plan.before)
    if standing_start:
        tl = Timeline(fs_hz, hx=0.0, hy=0.0, hz=body.thigh_m + body.shank_m, yaw=0.0, flex=0.0, abd=0.0)
    else:
        tl = Timeline(fs_hz, hx=0.0, hy=0.0, hz=body.seat_m, yaw=0.0, flex=seat_flex, abd=0.0)
    th = _Thigh(tl, rng, cond, body, seated=not standing_start, seat_flex=seat_flex)
    tl.hold(rng.uniform(2.0, 3.5))
    for name in plan.before:
        if name == "sit_stand":
            continue  # becomes the sit-down below
        th.do(name)
    if not th.seated:
        th.change_posture(th.sit_down)
        tl.hold(rng.uniform(1.5, 3.0))
    lift_mean = rng.uniform(22, 32) * D2R
    st = _Style(cond, rng, reps)
    for i in range(reps):
        for name in plan.between.get(i, []):
            th.do(name)
        amp = st.amplitude(lift_mean, 13 * D2R, 42 * D2R, i)
        if hold_s is not None:
            top = hold_s
        else:
            top = rng.uniform(0.0, 0.15) if cond.rhythmic else rng.uniform(0.0, 0.4)
        rise, lower = st.duration(0.6, i), st.duration(0.6, i)
        _rep(tl, "lift", "flex", th.seat_flex, th.seat_flex + amp, rise, st.hold(top, i) + _ABOVE_80 * (rise + lower),
             lower, rng.uniform(0.0, 0.05), also={"abd": rng.uniform(-3, 3) * D2R})
        # the other leg's lift: this thigh presses down a little
        other_s = 0.45 if cond.rhythmic else 0.6
        tl.move(st.duration(other_s, i), flex=th.seat_flex - rng.uniform(0.5, 1.5) * D2R)
        tl.move(st.duration(other_s, i), flex=th.seat_flex)
        tl.hold(rng.uniform(0.05, 0.3) if cond.rhythmic else st.duration(0.3, i))
    after = list(plan.after)
    if "walk" in after and "sit_stand" not in after:
        after.append("sit_stand")  # walking away means standing up first
        after.sort(key=lambda d: {"sit_stand": 0, "walk": 1}.get(d, 2))
    for name in after:
        if name == "sit_stand" and th.seated:
            th.change_posture(th.stand_up)
            tl.hold(rng.uniform(1.0, 2.0))
        elif name != "sit_stand":
            th.do(name)
    tl.hold(rng.uniform(1.5, 3.0))
    return _thigh_motion("march", tl, body, cond, rng)


def _thigh_motion(exercise: str, tl: Timeline, body: Body, cond: Conditions, rng: np.random.Generator) -> Motion:
    ch = tl.arrays()
    # where around the thigh the sensor sits (0 = front, strap_roll_deg): anywhere, for every
    # exercise (people strapping a sensor on alone put it where they can reach)
    roll = cond.strap_roll_deg * D2R

    def pose(c: dict[str, np.ndarray]) -> tuple[Rotation, np.ndarray]:
        return _thigh_pose(c, body, roll)

    rot, pos = pose(ch)
    # strap roll about the thigh axis, then the sensor turned on the skin (about its own z)
    mount = rot_z(roll)[0] * THIGH_MOUNT * Rotation.from_euler("z", cond.strap_turn_deg * D2R)
    # a thigh sways sideways and turns a little (hip), and bobs less in flexion
    return Motion(exercise, tl.fs_hz, rot, pos, tl.impact_acc_world(), mount, {"flex": 1.0, "abd": 0.3},
                  pose, tl.reps, tl.spans, ch, wobble={"abd": 1.0, "yaw": 0.6, "flex": 0.3})


def _slide(tl: Timeline, body: Body, depth: float, down_s: float, hold_s: float, up_s: float, sag: float) -> None:
    """A wall slide: the back slides down the wall (hip moves straight down), the thigh rotates about
    the knee to `depth` (inclination from vertical, rad), holds, and slides back up."""
    m_down, m_up = tl.samples(down_s), tl.samples(up_s)
    plateau = hold_s - _ABOVE_80 * (down_s + up_s)
    m_hold = tl.samples(plateau) if plateau > 0 else 0
    sag = sag * min(1.0, plateau / 4.0) if plateau >= 1.0 else 0.0  # slow creep, never a jerk
    alpha = np.concatenate([
        depth * min_jerk(m_down),
        depth - sag * depth * min_jerk(m_hold) if m_hold else np.zeros(0),
        depth * (1 - sag) * (1 - min_jerk(m_up)),
    ])
    # ankle fixed, hip on the wall line: Lt sin(alpha) - Ls sin(beta) = D (the feet's distance)
    lt, ls, d = body.thigh_m, body.shank_m, body.wall_foot_m
    sin_b = np.clip((lt * np.sin(alpha) - d) / ls, -1.0, 1.0)
    hz_rel = ls * np.sqrt(1 - sin_b**2) + lt * np.cos(alpha)
    sin_b0 = -d / ls
    hz0 = ls * np.sqrt(1 - sin_b0**2) + lt
    s = tl.state
    i0 = tl.n - 1
    tl.add(len(alpha), {"flex": alpha, "hz": s["hz"] + (hz_rel - hz0)})
    tl.reps.append(RepMark("slide", i0, tl.n - 1, "flex", 0.0, 1.0))


def build_wall_slide(reps: int, rng: np.random.Generator, cond: Conditions, body: Body, fs_hz: float,
                     hold_s: float | None) -> Motion:
    """Standing with the back on a wall: reps slides down (thigh 45-90 deg), hold, slide up."""
    plan = _plan_distractors(cond.distractors, reps, rng,
                             {"sit_stand": ("before", "after"), "walk": ("before", "after")})
    seated_start = "sit_stand" in plan.before
    seat_flex = rng.uniform(82, 98) * D2R
    if seated_start:
        tl = Timeline(fs_hz, hx=-0.3, hy=0.0, hz=body.seat_m, yaw=0.0, flex=seat_flex, abd=0.0)
    else:
        tl = Timeline(fs_hz, hx=0.0, hy=0.0, hz=_standing_hip(body), yaw=0.0, flex=0.0, abd=0.0)
    th = _Thigh(tl, rng, cond, body, seated=seated_start, seat_flex=seat_flex)
    tl.hold(rng.uniform(2.0, 3.5))
    for name in plan.before:
        if name == "sit_stand":
            th.change_posture(th.stand_up)
            tl.hold(rng.uniform(1.0, 2.0))
        else:
            th.do(name)
    tl.move(0.5, hz=_standing_hip(body))  # settle against the wall
    depth_mean = rng.uniform(55, 80) * D2R
    hold_mean = rng.uniform(6, 12)
    st = _Style(cond, rng, reps)
    for i in range(reps):
        for name in plan.between.get(i, []):
            th.do(name)
            tl.move(0.5, hz=_standing_hip(body), flex=0.0, abd=0.0)
        depth = st.amplitude(depth_mean, 42 * D2R, 90 * D2R, i)
        hold = hold_s if hold_s is not None else hold_mean + rng.uniform(-1.0, 1.0)
        _slide(tl, body, depth, st.duration(3.0, i), st.hold(hold, i), st.duration(2.5, i), rng.uniform(0.0, 0.05))
        tl.hold(st.duration(4.0, i))
    for name in plan.after:
        if name == "sit_stand":
            th.change_posture(th.sit_down)
            tl.hold(rng.uniform(1.0, 3.0))
        else:
            th.do(name)
    tl.hold(rng.uniform(1.5, 3.0))
    return _thigh_motion("wall-slide", tl, body, cond, rng)


def _standing_hip(body: Body) -> float:
    sin_b0 = -body.wall_foot_m / body.shank_m
    return body.shank_m * float(np.sqrt(1 - sin_b0**2)) + body.thigh_m


# ----------------------------------------------------------------------------------------------
# Lower back (sway)


def _band_noise(rng: np.random.Generator, n: int, fs_hz: float, lo_hz: float, hi_hz: float, rms: float) -> np.ndarray:
    """(n,) band-pass filtered Gaussian noise whose standard deviation over the n samples is rms.

    Filtered with 10 s of extra noise on each side, so the ends are as random as the middle."""
    pad = int(10 * fs_hz)
    sos = butter(2, [lo_hz, hi_hz], btype="bandpass", fs=fs_hz, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal(n + 2 * pad))[pad:pad + n]
    return x * (rms / np.std(x))


def build_sway(duration_s: float, rng: np.random.Generator, cond: Conditions, body: Body, fs_hz: float) -> Motion:
    """Quiet standing: an inverted pendulum about the ankles plus small trunk rotations.

    COM sway 1.5-8 mm RMS (peaks of ~0.5-2.5 cm), stronger AP or ML per seed, spectrum of a
    0.08-0.4 Hz band-pass (falling off towards 1 Hz like real COM sway); trunk rotations of
    0.05-0.15 deg RMS at 0.3-3 Hz. The lower-back accelerations then are ~0.02-0.1 m/s^2 RMS.
    """
    n = int(round(duration_s * fs_hz)) + 1
    big, small = rng.uniform(3e-3, 8e-3), rng.uniform(1.5e-3, 4e-3)
    ap_m, ml_m = (big, small) if rng.random() < 0.6 else (small, big)
    ap_m *= cond.amplitude_scale
    ml_m *= cond.amplitude_scale
    h = body.back_height_m
    ch = {
        "ap": _band_noise(rng, n, fs_hz, 0.08, 0.4, ap_m / h),
        "ml": _band_noise(rng, n, fs_hz, 0.08, 0.4, ml_m / h),
        "tp": _band_noise(rng, n, fs_hz, 0.3, 3.0, rng.uniform(0.05, 0.15) * D2R),
        "tr": _band_noise(rng, n, fs_hz, 0.3, 3.0, rng.uniform(0.05, 0.15) * D2R),
        "ty": _band_noise(rng, n, fs_hz, 0.1, 1.0, rng.uniform(0.1, 0.3) * D2R),
    }

    def pose(c: dict[str, np.ndarray]) -> tuple[Rotation, np.ndarray]:
        pend = rot_y(c["ap"]) * rot_x(-c["ml"])
        return pend * rot_z(c["ty"]) * rot_y(c["tp"]) * rot_x(c["tr"]), pend.apply(np.array([-0.1, 0.0, h]))

    rot, pos = pose(ch)
    info = {"com_rms_ap_m": float(ap_m), "com_rms_ml_m": float(ml_m)}
    return Motion("sway", fs_hz, rot, pos, np.zeros((n, 3)), BACK_MOUNT, {}, pose, [], [], ch, info)


BUILDERS: dict[str, Callable[..., Motion]] = {
    "heel-toe": build_heel_toe,
    "march": build_march,
    "wall-slide": build_wall_slide,
    "sway": build_sway,
}
