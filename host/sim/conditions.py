"""Recording conditions: who moves, how the sensor sits and errs, what else happens in the recording."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from movecoach.firmware import protocol
from movecoach.signal.gravity import STANDARD_GRAVITY_M_S2

log = logging.getLogger(__name__)

DISTRACTORS = ("walk", "turn", "step", "fidget", "weight_shift", "sit_stand")

# The wearable's default full scales; counts are scaled with the datasheet sensitivities
# (movecoach.firmware.protocol), exactly as the firmware and the host decoder do.
ACC_RANGE_G = int(protocol.DEFAULT_ACC_FS_G)
GYR_RANGE_DPS = int(protocol.DEFAULT_GYR_FS_DPS)


def acc_lsb_m_s2(range_g: int) -> float:
    """Accelerometer sensitivity (m/s^2 per count) at a full scale of +-range_g g."""
    return protocol.ACC_UG_PER_LSB[int(range_g)] * 1e-6 * STANDARD_GRAVITY_M_S2


def gyr_lsb_rad_s(range_dps: int) -> float:
    """Gyroscope sensitivity (rad/s per count) at a full scale of +-range_dps degrees/s."""
    return float(np.deg2rad(protocol.GYR_UDPS_PER_LSB[int(range_dps)] * 1e-6))


# Tremor about a joint shakes a sensor r metres from it with peak acceleration r * theta * (2 pi f)^2.
# Limb tremor in MS measured with body-worn accelerometers stays within about 1 g even when severe,
# so large angles come only at low frequencies: 3 deg at 4 Hz, 1.3 deg at 6 Hz, 0.5 deg at 10 Hz.
TREMOR_MAX_ACC_M_S2 = STANDARD_GRAVITY_M_S2  # 1 g
TREMOR_LEVER_M = 0.3  # hip or knee to a thigh sensor; the foot's lever to the ankle is shorter


def max_tremor_deg(tremor_hz: float) -> float:
    """Largest physiologically plausible tremor amplitude (deg) at tremor_hz (Hz), see above."""
    omega = 2.0 * np.pi * tremor_hz
    return float(np.rad2deg(TREMOR_MAX_ACC_M_S2 / (TREMOR_LEVER_M * omega**2)))


@dataclass(frozen=True)
class Conditions:
    """How a simulated recording deviates from an ideal sensor on an ideal, cooperative person.

    Sensor errors (defaults are those of a typical MEMS IMU, so the default is the "clean" preset):
    noise: white noise of acc_noise_m_s2 / gyr_noise_rad_s RMS at 104 Hz (scaled with
    sqrt(fs / 104) for other rates, i.e. constant noise density). bias: a constant bias per axis
    drawn uniformly within +-acc_bias_m_s2 / +-gyr_bias_rad_s, plus a slow gyro bias wander of
    gyr_bias_drift_rad_s RMS (temperature, minutes time scale). scale_error: per-axis sensitivity
    error within +-scale_error and cross-axis coupling within +-scale_error / 3 (both sensors;
    applied when bias is on). quantise: int16 counts at the
    firmware's full scales acc_range_g (2, 4, 8, 16 g) and gyr_range_dps (125-2000 dps) with the
    datasheet sensitivities, saturating at +-32767 counts (a 4 g range clips hard heel strikes).

    Placement: strap_error_deg: the sensor sits rotated on its segment by this angle about a random
    axis (used up to 30 deg on the foot, capped at 10 deg on the thigh and the lower back, where
    the strap sits along the segment). strap_roll_deg: thigh sensors only, where around the thigh the
    sensor sits, a rotation about the thigh axis (any value in [-180, 180] for wall slides; seated
    marching scales it into the front quarter, +-45 deg, as the placement guide asks).
    strap_turn_deg: thigh sensors only, the sensor turned on the skin about its own z axis (any
    value: "any orientation").

    Person: speed (1 = typical; 2 = twice as fast), amplitude_scale (x typical amplitudes),
    amplitude_spread (relative rep-to-rep spread), vary_body (draw segment lengths per seed instead
    of the typical adult), tremor_amp_deg at tremor_hz (rotation of the segment, full size
    during reps and holds, a fifth of it at rest), fatigue in [0, 1] (by the last rep amplitude
    down by up to 20 %, movement up to 40 % slower and holds up to 50 % shorter).

    Rhythm: rhythmic: reps one after another, as many people do them: heel and toe raises held
    0-0.5 s with 0.05-0.4 s between them, march lifts barely held with the other leg's lift and
    0.05-0.3 s between; after a distractor the set goes on within 0.1-0.5 s (no rest in which to
    learn a gyro bias). wobble_deg: natural unsteadiness of the segment throughout (RMS deg,
    0.2-1.5 Hz): a standing foot rolls and rocks a little, a thigh sways; it is part of the
    motion (in the truth), not a sensor error.

    Recording: fs_hz overrides simulate()'s fs when set; loss_bursts runs of 5-40 lost samples
    (t_s then has gaps); irregular_dt: sample instants jitter (+-30 % of a period, occasional
    late samples); t0_s: the sensor clock at the first sample; distractors: movements before,
    between and after the set that are not reps (names from DISTRACTORS; none in a sway trial,
    which is quiet standing by definition, and no tremor there either).
    """

    noise: bool = True
    bias: bool = True
    quantise: bool = True
    acc_noise_m_s2: float = 0.03
    gyr_noise_rad_s: float = 0.005
    acc_bias_m_s2: float = 0.05
    gyr_bias_rad_s: float = 0.01
    gyr_bias_drift_rad_s: float = 0.0
    scale_error: float = 0.01
    acc_range_g: int = ACC_RANGE_G
    gyr_range_dps: int = GYR_RANGE_DPS
    strap_error_deg: float = 0.0
    strap_roll_deg: float = 0.0
    strap_turn_deg: float = 0.0
    speed: float = 1.0
    amplitude_scale: float = 1.0
    amplitude_spread: float = 0.05
    vary_body: bool = False
    tremor_amp_deg: float = 0.0
    tremor_hz: float = 6.0
    fatigue: float = 0.0
    loss_bursts: int = 0
    distractors: tuple[str, ...] = field(default=())
    irregular_dt: bool = False
    t0_s: float = 0.0
    fs_hz: float | None = None
    rhythmic: bool = False
    wobble_deg: float = 0.0

    def __post_init__(self) -> None:
        unknown = [d for d in self.distractors if d not in DISTRACTORS]
        if unknown:
            raise ValueError(f"unknown distractor(s) {unknown}; expected some of {DISTRACTORS}")
        if not 0.0 <= self.fatigue <= 1.0:
            raise ValueError(f"fatigue must be in [0, 1], got {self.fatigue}")
        if self.acc_range_g not in protocol.ACC_UG_PER_LSB:
            raise ValueError(f"acc_range_g must be one of {sorted(protocol.ACC_UG_PER_LSB)}, got {self.acc_range_g}")
        if self.gyr_range_dps not in protocol.GYR_UDPS_PER_LSB:
            raise ValueError(f"gyr_range_dps must be one of {sorted(protocol.GYR_UDPS_PER_LSB)}, got {self.gyr_range_dps}")
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")

    def to_json(self) -> dict:
        d = asdict(self)
        d["distractors"] = list(self.distractors)
        return d

    @staticmethod
    def from_json(d: dict) -> Conditions:
        """The inverse of to_json (e.g. from a truth JSON's "conditions")."""
        return Conditions(**{**d, "distractors": tuple(d.get("distractors", ()))})

    @staticmethod
    def preset(name: str, seed: int = 0) -> Conditions:
        """'clean': a typical sensor on a cooperative typical person (the defaults).

        'hard': everything randomised within realistic bounds from the seed: body, speed 0.5-2x,
        amplitudes (x0.8-1.2, 5-20 % rep-to-rep spread), rate 50-208 Hz, noise, bias, bias drift
        and scale errors near the top of the datasheet, strap error up
        to 25 deg, any roll about the thigh, any turn on the skin, rhythmic reps in 3 of 10, a
        segment wobble of up to 2 deg, tremor 4-10 Hz of 0.5-3 deg (at most `max_tremor_deg`), fatigue, 1-4 loss
        bursts, jittered sample times, a clock that does not start at 0, and 3-5 distractors.
        """
        if name == "clean":
            return Conditions()
        if name != "hard":
            raise ValueError(f"unknown conditions preset {name!r}; expected 'clean' or 'hard'")
        rng = np.random.default_rng([int(seed), 7919])
        n_distractors = int(rng.integers(3, 6))
        distractors = tuple(str(d) for d in rng.choice(DISTRACTORS, size=n_distractors, replace=False))
        # walking is the most common thing people do around a set
        if "walk" not in distractors:
            distractors = ("walk",) + distractors[1:]
        tremor_hz = float(rng.uniform(4.0, 10.0))
        tremor_deg = min(float(rng.uniform(0.5, 3.0)), max_tremor_deg(tremor_hz))
        return Conditions(
            acc_noise_m_s2=float(rng.uniform(0.02, 0.05)),
            gyr_noise_rad_s=float(rng.uniform(0.003, 0.008)),
            acc_bias_m_s2=float(rng.uniform(0.05, 0.1)),
            gyr_bias_rad_s=float(rng.uniform(0.01, 0.02)),
            gyr_bias_drift_rad_s=float(rng.uniform(0.001, 0.004)),
            scale_error=float(rng.uniform(0.01, 0.03)),
            strap_error_deg=float(rng.uniform(5.0, 25.0)),
            strap_roll_deg=float(rng.uniform(-180.0, 180.0)),
            speed=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
            amplitude_scale=float(rng.uniform(0.8, 1.2)),
            amplitude_spread=float(rng.uniform(0.05, 0.2)),
            vary_body=True,
            tremor_amp_deg=tremor_deg,
            tremor_hz=tremor_hz,
            fatigue=float(rng.uniform(0.2, 1.0)),
            loss_bursts=int(rng.integers(1, 5)),
            distractors=distractors,
            irregular_dt=True,
            t0_s=float(np.round(rng.uniform(5.0, 5000.0), 3)),
            fs_hz=float(rng.choice([52.0, 50.0, 100.0, 104.0, 208.0])),
            strap_turn_deg=float(rng.uniform(-180.0, 180.0)),  # drawn after the others: earlier
            rhythmic=bool(rng.random() < 0.3),  # draws unchanged
            wobble_deg=float(rng.uniform(0.0, 2.0)),
        )
