"""A foot walking: bouts at several speeds and stride lengths, with stops and turns, and the
stride truth (its own plain kinematics: nothing here comes from movecoach.signal.gait).

The sensor sits on the top of the foot (+x toward the toes, +z up when flat, then the strap
error). The foot is flat and still on the floor between strides; each stride moves it in one
smooth movement of duration D (heel off to foot flat), the same shape for every stride:

- forward along the stride's straight line by L with a minimum-jerk profile (zero velocity and
  acceleration at both ends), the line pointing half-way through the stride's turn;
- up by LIFT_M (a 64 tau^3 (1 - tau)^3 bump) and back down;
- pitched toes-down first (push-off) and toes-up before landing (+-PITCH_DEG at most);
- turned about vertical by the stride's turn (minimum-jerk);
- at the landing (tau = IMPACT_TAU) a 1 mm, 30 ms vertical dip of the foot (a heel strike):
  a sharp acceleration peak, with no net change in velocity or position.

Truth: per stride t_start (the foot starts to move), t_end (it is still again), t_land (the
landing impact), length_m (horizontal distance between the two stances), time_s (landing to
landing; None for a bout's first stride), turn_deg; bouts (t_start, t_end, strides, distance_m,
turns); distance_m in all.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from movecoach.sim.kinematics import bump, min_jerk

LIFT_M = 0.12
PITCH_DEG = 35.0
IMPACT_TAU = 0.93
IMPACT_DIP_M = 0.001
IMPACT_S = 0.03
STAND_START_S = 3.0
STAND_END_S = 2.0
# The first bout goes at least this far straight ahead: a timed 25-foot (7.62 m) walk is walked
# along a straight course (with turns every 5-10 strides the demo's 25-ft walk took ~11 s).
FIRST_BOUT_MIN_M = 10.0


def plan(rng: np.random.Generator, duration_s: float) -> list[dict]:
    """A walk of about duration_s: bouts of straight strides, each bout at its own pace (the
    first FIRST_BOUT_MIN_M at least), joined by U-turns (two turning strides of ~90 deg,
    shorter) or stops of 3-5 s standing.

    Each stride: {"L": m, "T": s stride time, "D": s movement, "turn": rad, "stop_after": s}.
    """
    strides: list[dict] = []
    t = STAND_START_S
    end = max(duration_s - STAND_END_S, STAND_START_S + 5.0)
    while t < end:
        length = float(rng.uniform(0.8, 1.5))
        period = float(rng.uniform(0.95, 1.3))
        n = int(rng.integers(5, 11))
        if not strides:
            n = max(n, int(np.ceil(FIRST_BOUT_MIN_M / length)))
        for _ in range(n):
            strides.append({"L": length * float(rng.uniform(0.97, 1.03)),
                            "T": period * float(rng.uniform(0.97, 1.03)), "turn": 0.0})
            t += period
            if t >= end:
                break
        if t >= end:
            break
        if rng.random() < 0.6:
            side = float(rng.choice([-1.0, 1.0]))
            for _ in range(2):
                strides.append({"L": float(rng.uniform(0.35, 0.6)), "T": period * 1.1,
                                "turn": side * np.deg2rad(float(rng.uniform(80.0, 100.0)))})
                t += period * 1.1
        else:
            strides[-1]["stop_after"] = float(rng.uniform(3.0, 5.0))
            t += strides[-1]["stop_after"]
    for s in strides:
        s["D"] = 0.55 * s["T"]
        s.setdefault("stop_after", 0.0)
    return strides


def foot_motion(strides: list[dict], fs_hz: float) -> tuple[Rotation, np.ndarray, dict]:
    """The foot's pose (rot sensor-frame-before-strap -> world, position (n, 3) m) at fs_hz for
    the planned strides, and the truth."""
    dt = 1.0 / fs_hz
    total = STAND_START_S + sum(s["T"] + s["stop_after"] for s in strides) + STAND_END_S
    n = int(round(total * fs_hz)) + 1
    pos = np.zeros((n, 3))
    pitch = np.zeros(n)
    yaw = np.zeros(n)
    t = np.arange(n) * dt
    here = np.zeros(3)
    heading = 0.0
    i = int(round(STAND_START_S * fs_hz))
    truth_strides = []
    bouts: list[list[dict]] = [[]]
    for s in strides:
        m = int(round(s["D"] * fs_hz))
        tau = np.arange(m + 1) / m
        direction = heading + 0.5 * s["turn"]
        fwd = s["L"] * min_jerk(m + 1)
        seg = np.zeros((m + 1, 3))
        seg[:, 0] = here[0] + fwd * np.cos(direction)
        seg[:, 1] = here[1] + fwd * np.sin(direction)
        seg[:, 2] = LIFT_M * bump(m + 1)
        # push-off toes-down, then toes-up before landing, smooth at both ends
        shape = bump(m + 1) * np.sin(2 * np.pi * tau)
        pitch_seg = np.deg2rad(PITCH_DEG) * shape / max(np.abs(shape).max(), 1e-9)
        yaw_seg = heading + s["turn"] * min_jerk(m + 1)
        # the heel strike: a short dip of the foot, zero net velocity and position change
        k = int(round(IMPACT_S * fs_hz))
        j0 = int(round(IMPACT_TAU * m)) - k // 2
        seg[j0:j0 + k + 1, 2] -= IMPACT_DIP_M * bump(k + 1)[: max(0, min(k + 1, m + 1 - j0))]
        end = min(i + m + 1, n)
        pos[i:end] = seg[: end - i]
        pitch[i:end] = pitch_seg[: end - i]
        yaw[i:end] = yaw_seg[: end - i]
        here = seg[-1].copy()
        here[2] = 0.0
        heading = float(yaw_seg[-1])
        nxt = int(round((s["T"] + s["stop_after"]) * fs_hz))
        pos[end:i + nxt + 1] = here
        yaw[end:i + nxt + 1] = heading
        rec = {"t_start": round(float(t[i]), 3), "t_end": round(float(t[min(i + m, n - 1)]), 3),
               "t_land": round(float(t[min(i + j0 + k // 2, n - 1)]), 3),
               "length_m": round(float(s["L"]), 4), "turn_deg": round(float(np.rad2deg(s["turn"])), 2)}
        bouts[-1].append(rec)
        truth_strides.append(rec)
        if s["stop_after"] > 0:
            bouts.append([])
        i += nxt
    pos[i:] = here
    yaw[i:] = heading
    for b in bouts:
        for k, rec in enumerate(b):
            rec["time_s"] = round(rec["t_land"] - b[k - 1]["t_land"], 3) if k else None
    rot = Rotation.from_euler("ZY", np.column_stack([yaw, pitch]))
    truth = {
        "strides": truth_strides,
        "bouts": [{"t_start": b[0]["t_start"], "t_end": b[-1]["t_end"], "strides": len(b),
                   "distance_m": round(sum(r["length_m"] for r in b), 3),
                   "turns": _turns(b)} for b in bouts if b],
        "distance_m": round(sum(r["length_m"] for r in truth_strides), 3),
    }
    return rot, pos, truth


def _turns(bout: list[dict]) -> int:
    """U-turns in a bout: each planned pair of turning strides is one turn of ~180 deg."""
    return sum(1 for k, r in enumerate(bout) if r["turn_deg"] and (k == 0 or not bout[k - 1]["turn_deg"]))
