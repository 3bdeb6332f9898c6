"""movecoach.sim: a physically plausible simulator of the wearable IMU during the exercises.

    from movecoach.sim import simulate, Conditions
    rec = simulate("heel-toe", reps=10, fs=104.0, seed=1, conditions=Conditions.preset("hard", 1))
    rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, rec.truth["counts"], rec.clean

How: each exercise is scripted as rigid segments rotating about real pivots (timeline.py,
motions.py); the sensor pose R(t), p(t) on a 1 kHz grid gives specific force
R^T (p'' - g_world) and the body-frame rate (kinematics.py); these are band-limited like the
IMU's filter, sampled at the wearable's (possibly jittered) instants, and get noise, bias, bias
wander, scale/cross-axis errors and int16 quantisation at the firmware's full scales (core.py).

Sensor frames (at the rest posture, before any strap error):

- heel-toe, top of the foot: +x toward the toes, +z up out of the foot (+9.81 on z at rest).
  Heel raise: toes-down pitch about the metatarsal heads (~0.15 m ahead of the sensor);
  toe raise: toes-up pitch about the heel (~0.08 m behind).
- march / wall-slide, front of the thigh: +x along the thigh toward the hip, +z out of the skin,
  +y = z x x; placed anywhere around the thigh (Conditions.strap_roll_deg; front quarter for
  march) and turned any way on the skin (Conditions.strap_turn_deg).
  Seated the thigh is ~horizontal (+z up); standing it is vertical (+x up).
- sway, lower back: +x up, +y left, +z backward.

Truth (rec.truth, also the JSON beside a saved CSV): exercise, counts, reps (kind, t_start,
t_peak, t_end on the sensor clock, amplitude_deg = largest rotation away from the rest
orientation, or depth_deg = thigh inclination from vertical for slides, hold_s = time at or
beyond 80 % of the rep's own amplitude; all from the noise- and tremor-free motion),
distractors (kind, t_start, t_end: movements that are NOT reps), metrics for sway (the written
definitions of movecoach.signal.sway, transcribed apart from it in movecoach.sim.sway_truth, on
rec.clean), and everything needed to reproduce it.
"""

import importlib

__all__ = ["DISTRACTORS", "Conditions", "SimRecording", "save_csv", "simulate"]

_HOME = {"DISTRACTORS": "conditions", "Conditions": "conditions",
         "SimRecording": "core", "save_csv": "core", "simulate": "core"}


def __getattr__(name: str):
    """Load the simulator (scipy) on first use, so `movecoach --help` and `movecoach.commands.simulate` start fast."""
    if name in _HOME:
        return getattr(importlib.import_module(f"movecoach.sim.{_HOME[name]}"), name)
    raise AttributeError(f"module 'movecoach.sim' has no attribute {name!r}")
