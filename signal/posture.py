"""Stage 3 of the rep analysis: posture. Seated, standing or walking, from a thigh sensor, as its
own stage that says when the posture changes (so a sit-to-stand exercise is a new registry entry
reading these events, not a rewrite of the detector).

Evidence, strongest first:

- walking: the thigh swings back and forth (WALK_SWINGS half-swings of more than WALK_SWING_DEG,
  each straight after the last): the person stands (from seated, once the thigh has gone
  LARGE_CHANGE_DEG from where it sat: standing up comes first);
- the thigh's inclination, where the placement stage can see its long axis (sensor within ~60 deg
  of the front or back of the thigh): below STANDING_MAX_DEG standing, above SEATED_MIN_DEG
  seated;
- gravity through the sensor's face: a flat strap puts the thigh's long axis in the sensor's
  face, so a standing thigh never has gravity through it; |up_z| at or above SEATED_MIN_NORMAL
  is a level thigh (seated, a deep wall slide; lying down looks the same), and once that has
  been seen, a small |up_z| is an upright thigh (UPRIGHT_SHARE);
- held back where a posture was last known (within SAME_PLACE_DEG): that posture again (a
  deep wall slide held at the bottom has the thigh as level as sitting; back up, it is standing);
- a large change of the resting posture (LARGE_CHANGE_DEG, sitting down or standing up) from a
  known posture gives the other one.

Otherwise the posture is 'unknown': a sensor on the side of the thigh, a set started seated, no
movement yet. Exercises decide what they accept (march: seated or unknown; wall slides:
standing or unknown).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from movecoach.signal.placement import Placement, PlacementView

log = logging.getLogger(__name__)

SEATED, STANDING, WALKING, UNKNOWN = "seated", "standing", "walking", "unknown"

# A standing thigh is within ~15 deg of vertical (a bent knee, a lean); a seated one 70-100 deg.
STANDING_MAX_DEG = 35.0
SEATED_MIN_DEG = 55.0
# |up_z| of a seated thigh with the sensor on the front: cos of the angle round the thigh; a
# standing thigh has |up_z| <= sin(strap tilt + knee bend) ~ 0.3.
SEATED_MIN_NORMAL = 0.6
# Once gravity has been seen through the sensor's face (|up_z| = sin(inclination) x cos(angle
# round the thigh from the front) >= SEATED_MIN_NORMAL), the sensor is on the front or the back
# of the thigh, and |up_z| below UPRIGHT_SHARE of the largest seen puts the thigh within 30 deg
# of vertical: standing.
UPRIGHT_SHARE = 0.5
# A change of rest this large is sitting down or standing up (a seated lift is 15-40 deg).
LARGE_CHANGE_DEG = 50.0
# Held within this of where a posture was last known: the same posture, and where it now is (a
# lift or a slide is 15 deg or more; settling on a seat or shifting weight, a few).
SAME_PLACE_DEG = 15.0
# Walking: the thigh swings 30-40 deg peak to peak at ~1 Hz, each swing straight into the next;
# seated fidgets and knee bouncing stay within a few degrees, and a march lift (up, down) is
# followed by a rest on the seat (at least while the other leg lifts, ~1 s), where the thigh at
# most wobbles by less than WALK_SWING_DEG.
WALK_SWING_DEG = 10.0
WALK_SWINGS = 3
# ... and a pause (turning slower than WALK_PAUSE_DPS for WALK_PAUSE_S) breaks the chain: a
# walking thigh passes its turning points in < 0.1 s at that rate (20 deg swings at 0.5-1 Hz).
WALK_PAUSE_DPS = 10.0
WALK_PAUSE_S = 0.25
# A held thigh is looked at when it has been held rest_settle_s and every STEADY_EVERY_S after.
STEADY_EVERY_S = 0.25


@dataclass(frozen=True)
class PostureEvent:
    """The posture changed at t_s (s) to posture ('seated' | 'standing' | 'walking' |
    'unknown'), for the reason given (for the log)."""

    t_s: float
    posture: str
    reason: str


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(u, v))))))


class PostureTracker:
    """Seated / standing / walking / unknown, per sample, from a thigh sensor.

    fs: grid rate in Hz; placement: the placement stage (its turning axis and long axis).
    :meth:`push` takes a block's up-directions (n, 3), bias-removed gyro (n, 3) rad/s, the time
    the segment has been held (n,) s and the grid index of its first sample, and returns the posture per sample and the
    :class:`PostureEvent` s of the block. ``posture`` is the current one ('standing' once the
    walk has stopped).
    """

    def __init__(self, fs: float, placement: Placement, *, settle_s: float = 1.0):
        self.fs = float(fs)
        self.placement = placement
        self._view = placement.view_at(0)
        self.posture = UNKNOWN
        self._settle_s = settle_s
        self._seen: dict[str, np.ndarray] = {}  # the last held up-direction of each posture
        self._max_uz = 0.0  # the largest |up_z| held so far (SEATED_MIN_NORMAL, UPRIGHT_SHARE)
        self._swing = 0.0  # angle turned about the turning axis since the last reversal (deg)
        self._swing_sign = 0.0
        self._chain = 0  # half-swings of more than WALK_SWING_DEG, each straight after the last
        self._slow_n = 0  # samples turning slower than WALK_PAUSE_DPS
        self._n_pause = int(round(WALK_PAUSE_S * self.fs))
        self._walking = False
        # the up-directions summed over the walk going on, up to its last reversal of swing (a
        # sit-down straight after the last stride is not part of the walk: hard seed 4732) ...
        self._walk_up_sum = [0.0, 0.0, 0.0]
        self._walk_up_since = [0.0, 0.0, 0.0]  # ... and since that reversal

    def push(self, t_s: np.ndarray, up: np.ndarray, gyr_rad_s: np.ndarray, held_s: np.ndarray,
             k0: int = 0) -> tuple[list[str], list[PostureEvent]]:
        events: list[PostureEvent] = []
        out: list[str] = []
        fs = self.fs
        dt_deg = math.degrees(1.0 / fs)
        slow = math.radians(WALK_PAUSE_DPS)
        held_n = np.rint(held_s * fs).astype(int).tolist()
        n_settle = int(round(self._settle_s * fs))
        n_every = max(1, int(round(STEADY_EVERY_S * fs)))
        swing, sign, chain, slow_n = self._swing, self._swing_sign, self._chain, self._slow_n
        pl = self.placement
        view = self._view
        next_k = k0  # look up the placement stage's view here (it changes at its chunk ends)
        ax = (0.0, 0.0, 0.0)
        ws, wp = self._walk_up_sum, self._walk_up_since
        for i, (t, gw, h, u) in enumerate(zip(t_s.tolist(), gyr_rad_s.tolist(), held_n, up.tolist(),
                                              strict=True)):
            k = k0 + i
            if k >= next_k:
                view = self._view = pl.view_at(k)
                axis = view.turn_axis
                ax = (0.0, 0.0, 0.0) if axis is None else tuple(axis.tolist())
                next_k = (k // pl.chunk + 1) * pl.chunk
            w = gw[0] * ax[0] + gw[1] * ax[1] + gw[2] * ax[2]
            # half-swings about the turning axis (walking)
            sgn = 1.0 if w > 0 else -1.0
            if sgn != sign:
                chain = chain + 1 if abs(swing) > WALK_SWING_DEG else 0
                sign, swing = sgn, 0.0
                if chain and self._walking:  # a stride's half-swing is complete
                    ws = [ws[0] + wp[0], ws[1] + wp[1], ws[2] + wp[2]]
                    wp = [0.0, 0.0, 0.0]
            swing += w * dt_deg
            slow_n = slow_n + 1 if abs(w) < slow else 0
            if slow_n >= self._n_pause:
                chain, swing = 0, 0.0
            if chain >= WALK_SWINGS and not self._walking and self._may_walk(u):
                self._walking = True
                # (mid-stride now: where the walk is, should it stop before a half-swing
                # completes, as it may when the walk is seen late; those that do outweigh it.
                # Hard march 6111: seen 0.5 s before the walk ended, a pause, then sitting down;
                # the walk's up taken from the seat only was 44 deg from it, the seat was read as
                # standing, and all 10 lifts were lost)
                ws, wp = list(u), [0.0, 0.0, 0.0]
                self._set(WALKING, t, "the thigh swings back and forth", events, None)
            if self._walking:
                wp[0] += u[0]
                wp[1] += u[1]
                wp[2] += u[2]
            if h >= n_settle:
                if self._walking:
                    self._walking = False
                    chain = 0
                    if not any(ws):  # no half-swing completed since walking began
                        ws = wp
                    self._walk_up_sum = ws
                    self._steady(t, up[i], events, after_walk=True)
                elif (h - n_settle) % n_every == 0:  # (held posture changes slowly)
                    self._steady(t, up[i], events)
            out.append(self.posture)
        self._swing, self._swing_sign, self._chain, self._slow_n = swing, sign, chain, slow_n
        self._walk_up_sum, self._walk_up_since = ws, wp
        return out, events

    def _may_walk(self, u: list[float]) -> bool:
        """Seated, the person stands up before walking: the thigh is LARGE_CHANGE_DEG or more
        from where it sat. Quick seated lifts with no still moment between them swing back and
        forth too (hard 5005: 7 of 10 lifts lost to a "walk" read from them)."""
        seat = self._seen.get(SEATED)
        if self.posture != SEATED or seat is None:
            return True
        c = seat[0] * u[0] + seat[1] * u[1] + seat[2] * u[2]
        return c <= math.cos(math.radians(LARGE_CHANGE_DEG))

    def classify(self, u: np.ndarray, view: PlacementView | None = None) -> tuple[str, str]:
        """(posture, reason) from the geometry alone of a held up-direction u (3,): the
        thigh's inclination where the long axis is known (from the placement view, default the
        one in force at the last sample pushed), else gravity through the sensor's face;
        'unknown' where neither tells."""
        inc = (view or self._view).thigh_inclination_deg(u)
        if inc is not None and inc <= STANDING_MAX_DEG:
            return STANDING, f"the thigh is {inc:.0f} deg from vertical"
        if inc is not None and inc >= SEATED_MIN_DEG:
            return SEATED, f"the thigh is {inc:.0f} deg from vertical"
        uz = abs(float(u[2]))
        if uz >= SEATED_MIN_NORMAL:
            return SEATED, "gravity runs through the sensor's face (thigh level)"
        if self._max_uz >= SEATED_MIN_NORMAL and uz <= UPRIGHT_SHARE * self._max_uz:
            return STANDING, "gravity runs along the sensor's face (the sensor is on the front)"
        return UNKNOWN, ""

    def _steady(self, t: float, u: np.ndarray, events: list[PostureEvent],
                after_walk: bool = False) -> None:
        """The thigh has held still at up-direction u (after a walk where after_walk): what
        does that say?"""
        self._max_uz = max(self._max_uz, abs(float(u[2])))
        at: np.ndarray | None = u  # where the posture found is, from now on
        posture, why = self.classify(u)
        if posture == UNKNOWN:
            for p, v in self._seen.items():
                if _angle_deg(v, u) <= SAME_PLACE_DEG:
                    posture, why = p, f"back where it was {p}"
                    break
        if posture == UNKNOWN and after_walk:
            # the mean up over the walk's strides is where the thigh is when standing
            walk_up = np.asarray(self._walk_up_sum)
            change = _angle_deg(walk_up / (np.linalg.norm(walk_up) or 1.0), u)
            if change >= LARGE_CHANGE_DEG:
                posture, why = SEATED, f"sat down after walking (the thigh turned {change:.0f} deg)"
            else:
                posture, why = STANDING, "stopped walking"
        if posture == UNKNOWN and self.posture in self._seen:
            change = _angle_deg(self._seen[self.posture], u)
            if change >= LARGE_CHANGE_DEG:
                posture = SEATED if self.posture == STANDING else STANDING
                why = f"the thigh turned {change:.0f} deg from where it was {self.posture}"
            else:
                posture = self.posture  # small adjustments: still the same posture ...
                if change > SAME_PLACE_DEG:
                    # ... but not where it is: a wall slide held 46 deg down is no new standing
                    # place (hard 5288: taken as one, back up read as 55 deg away, "seated"
                    # every time it stood, three of five slides lost)
                    at = None
        if posture != UNKNOWN:
            self._set(posture, t, why, events, at)

    def _set(self, posture: str, t: float, reason: str, events: list[PostureEvent],
             u: np.ndarray | None) -> None:
        if u is not None and posture in (SEATED, STANDING):
            self._seen[posture] = u
        if posture != self.posture:
            self.posture = posture
            events.append(PostureEvent(t, posture, reason))
            log.info("posture at t=%.2f s: %s (%s)", t, posture, reason)
