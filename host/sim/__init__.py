"""movecoach.sim: a physically plausible simulator of the wearable IMU during the exercises.

    from movecoach.sim import simulate, Conditions
    rec = simulate("heel-toe", reps=10, fs=104.0, seed=1, conditions=Conditions.preset("hard", 1))
    rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, rec.truth["counts"]
"""

from movecoach.sim.conditions import DISTRACTORS, Conditions
from movecoach.sim.core import SimRecording, save_csv, simulate

__all__ = ["DISTRACTORS", "Conditions", "SimRecording", "save_csv", "simulate"]
