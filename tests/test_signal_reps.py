"""Counting and measuring reps on simulated recordings, as a user of count_reps would."""

from __future__ import annotations

import numpy as np
import pytest

from movecoach.signal.reps import RepCounter, count_reps, counts_of
from movecoach.sim import Conditions, simulate


def _amplitudes_match(reps, truth, key, tol_deg):
    """Each rep lies on a true rep of the same kind with nearly the same amplitude."""
    for r in reps:
        q = min(truth["reps"], key=lambda q: abs(0.5 * (q["t_start"] + q["t_end"]) - r.t_peak))
        assert q["kind"] == r.kind
        assert q["t_start"] - 0.3 <= r.t_peak <= q["t_end"] + 0.3
        assert abs(r.amplitude_deg - q[key]) < tol_deg, (r, q)


def _kept_outside(t_s, gaps):
    """Mask of the samples t_s (s) kept when the packets strictly inside each (t_from, t_to) s
    span of gaps are lost."""
    keep = np.ones(len(t_s), bool)
    for a, b in gaps:
        keep &= ~((t_s > a) & (t_s < b))
    return keep


def _count_received(rec, keep, exercise):
    """Reps found in the samples of recording rec that were received (keep: False = lost)."""
    return count_reps(rec.t_s[keep], rec.acc_m_s2[keep], rec.gyr_rad_s[keep], exercise=exercise,
                      fs=rec.fs)


def test_ten_heel_and_ten_toe_raises_with_2s_holds_count_ten_each():
    rec = simulate("heel-toe", reps=10, fs=104.0, seed=3, hold_s=2.0)
    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="heel-toe", fs=rec.fs)
    assert counts_of(reps, "heel-toe") == {"heel_raise": 10, "toe_raise": 10}
    assert [r.kind for r in reps] == ["heel_raise", "toe_raise"] * 10  # alternating, in time order
    _amplitudes_match(reps, rec.truth, "amplitude_deg", 1.5)
    holds = [r.hold_s for r in reps]
    truth_holds = [q["hold_s"] for q in rec.truth["reps"]]
    assert np.max(np.abs(np.subtract(holds, truth_holds))) < 0.2


def test_heel_raises_then_toe_raises_with_a_tilted_strap_at_50_hz():
    cond = Conditions(strap_error_deg=20.0)
    rec = simulate("heel-toe", reps=6, fs=50.0, seed=11, conditions=cond, pattern="blocked")
    counter = RepCounter("heel-toe").detect(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, fs=rec.fs)
    assert [r.kind for r in counter.reps_] == ["heel_raise"] * 6 + ["toe_raise"] * 6
    assert counter.counts_ == {"heel_raise": 6, "toe_raise": 6}


@pytest.mark.parametrize("fs", [52.0, 208.0])
def test_seated_marching_counts_every_lift_with_the_sensor_any_way_round(fs):
    cond = Conditions(strap_roll_deg=140.0)
    rec = simulate("march", reps=12, fs=fs, seed=5, conditions=cond)
    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="march")
    assert counts_of(reps, "march") == {"lift": 12}
    _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_wall_slides_report_depth_and_long_holds():
    rec = simulate("wall-slide", reps=4, fs=104.0, seed=2, hold_s=15.0)
    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="wall-slide", fs=rec.fs)
    assert counts_of(reps, "wall-slide") == {"slide": 4}
    _amplitudes_match(reps, rec.truth, "depth_deg", 2.0)
    for r, q in zip(reps, rec.truth["reps"], strict=True):
        assert abs(r.hold_s - q["hold_s"]) < 0.3
        assert r.to_json()["depth_deg"] == r.amplitude_deg


def test_tremor_neither_splits_reps_nor_inflates_amplitude():
    cond = Conditions(tremor_amp_deg=2.5, tremor_hz=5.0)
    rec = simulate("heel-toe", reps=8, fs=104.0, seed=21, conditions=cond)
    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="heel-toe", fs=rec.fs)
    assert counts_of(reps, "heel-toe") == rec.truth["counts"]
    amp_err = [r.amplitude_deg - q["amplitude_deg"] for r, q in zip(reps, rec.truth["reps"], strict=True)]
    assert abs(np.mean(amp_err)) < 1.0


@pytest.mark.parametrize(
    ("exercise", "distractor", "seed"),
    [
        ("march", "walk", 40), ("march", "walk", 44), ("march", "walk", 45),
        ("march", "sit_stand", 40), ("march", "turn", 40), ("march", "fidget", 40),
        ("wall-slide", "walk", 41), ("wall-slide", "sit_stand", 41), ("wall-slide", "turn", 41),
        ("heel-toe", "walk", 42), ("heel-toe", "sit_stand", 42), ("heel-toe", "fidget", 42),
        ("heel-toe", "step", 43),
    ],
)
def test_movements_around_the_set_do_not_count(exercise, distractor, seed):
    cond = Conditions(distractors=(distractor,))
    rec = simulate(exercise, reps=4, fs=104.0, seed=seed, conditions=cond)
    reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise=exercise, fs=rec.fs)
    assert counts_of(reps, exercise) == rec.truth["counts"], rec.truth["distractors"]


def test_a_long_gap_in_the_middle_of_a_rep_never_counts_it():
    rec = simulate("march", reps=6, fs=104.0, seed=7)
    third = rec.truth["reps"][2]
    mid = 0.5 * (third["t_start"] + third["t_end"])
    keep = np.abs(rec.t_s - mid) > 0.6  # 1.2 s of lost packets across the top of the third lift
    reps = _count_received(rec, keep, "march")
    assert len(reps) == 5
    assert all(abs(r.t_peak - mid) > 1.0 for r in reps)


def test_short_packet_losses_are_bridged():
    rec = simulate("march", reps=6, fs=104.0, seed=8)
    keep = np.ones(len(rec), bool)
    for q in rec.truth["reps"]:
        i = int(np.searchsorted(rec.t_s, q["t_peak"]))
        keep[i - 5 : i + 5] = False  # ~0.1 s lost at every peak
    reps = _count_received(rec, keep, "march")
    assert len(reps) == 6
    _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_a_lift_that_starts_inside_a_gap_is_measured_from_the_accelerometer():
    # 0.35 s of lost packets as each lift leaves the seat: the gyro is unknown there, so the
    # rotation during the gap comes from the accelerometer (gravity before and after the gap)
    rec = simulate("march", reps=6, fs=104.0, seed=8)
    leave = [q["t_start"] + 0.1 for q in rec.truth["reps"]]
    keep = _kept_outside(rec.t_s, [(t0, t0 + 0.35) for t0 in leave])
    reps = _count_received(rec, keep, "march")
    assert len(reps) == 6
    _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def _lose_each_rise(rec, reps, gap_s):
    """Samples kept when packets are lost from just after the start of each given rep for up to
    gap_s seconds (never past its peak)."""
    starts = [(q["t_start"] + 0.05, q["t_peak"]) for q in reps]
    return _kept_outside(rec.t_s, [(t0, min(t_peak, t0 + gap_s)) for t0, t_peak in starts])


def test_lifts_whose_rise_is_lost_under_tremor_are_still_counted():
    # a shaking leg (1.4 deg tremor at 5.8 Hz) and 0.3-0.45 s of lost packets while every other
    # lift rises: the orientation after the gap comes back from the accelerometer quickly
    # enough that the lift is seen to return and is counted, and no rep is lost or added
    for seed in range(4):
        rec = simulate("march", reps=6, fs=50.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.4, tremor_hz=5.8))
        keep = _lose_each_rise(rec, rec.truth["reps"][::2], 0.3 + 0.05 * seed)
        reps = _count_received(rec, keep, "march")
        assert len(reps) == 6, seed
        # the lifts the sensor saw whole are measured as usual
        _amplitudes_match(reps[1::2], rec.truth, "amplitude_deg", 2.0)


def test_a_fifth_of_a_second_lost_mid_lift_under_tremor_loses_no_lift():
    # 0.18 s lost in the middle of every lift's rise while the leg shakes (1.8 deg at 4.3 Hz):
    # the thigh turns ~15 deg unseen; the accelerometer puts the angle back after the gap, so
    # each lift still rises, returns and counts
    for seed in range(4):
        rec = simulate("march", reps=6, fs=100.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.8, tremor_hz=4.3))
        mid_rise = [q["t_start"] + 0.3 * (q["t_peak"] - q["t_start"]) for q in rec.truth["reps"]]
        keep = _kept_outside(rec.t_s, [(t0, t0 + 0.18) for t0 in mid_rise])
        reps = _count_received(rec, keep, "march")
        assert len(reps) == 6, seed
        # measured up to ~5 deg high: right after the gap the accelerometer still carries the
        # lift's own acceleration and the tremor
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 6.0)


def test_a_lift_hidden_by_a_long_gap_does_not_become_the_rest_posture():
    # the first lift's whole rise is lost (0.54 s, a long gap): the thigh may have moved while
    # nothing was received, so that time is no evidence of sitting still, and the raised thigh
    # after the gap is not taken as the new seated rest (which would lose every later lift)
    rec = simulate("march", reps=6, fs=50.0, seed=1,
                   conditions=Conditions(tremor_amp_deg=1.4, tremor_hz=5.8))
    first = rec.truth["reps"][0]
    keep = _lose_each_rise(rec, [first], 1.0)
    assert first["t_peak"] - first["t_start"] - 0.05 > 0.5  # longer than DEFAULT_MAX_GAP_S
    reps = _count_received(rec, keep, "march")
    assert len(reps) == 5  # nothing is counted across a long gap; every later lift is
    _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_a_step_hidden_by_lost_packets_is_not_a_heel_raise():
    # walking to the spot with a strong tremor (2 deg at 4.7 Hz), and 0.4 s of packets lost as
    # the foot leaves the floor on some steps: the swing, bridged on the gyro, reads as a 30-50
    # deg pitch, but the foot is flat again when the data returns, so it is no raise
    for seed in (3, 6):
        rec = simulate("heel-toe", reps=4, fs=104.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=2.0, tremor_hz=4.7,
                                             distractors=("walk",)))
        walk = rec.truth["distractors"][0]
        rate = np.linalg.norm(rec.gyr_rad_s, axis=1)
        gaps = []
        t = walk["t_start"] + 0.5
        while t < walk["t_end"] - 1.0:
            lift = np.flatnonzero((rec.t_s > t) & (rec.t_s < t + 1.0) & (rate > 0.5))
            if lift.size == 0:
                break
            t_lift = rec.t_s[lift[0]]
            gaps.append((t_lift, t_lift + 0.4))
            t = t_lift + 0.8
        keep = _kept_outside(rec.t_s, gaps)
        reps = _count_received(rec, keep, "heel-toe")
        assert counts_of(reps, "heel-toe") == {"heel_raise": 4, "toe_raise": 4}, seed


def test_the_raise_after_one_cut_by_a_long_gap_is_counted():
    # packets lost from the top of every heel raise until it is nearly down: those raises are
    # not counted (a long gap hides their return), and the heel coming down after the gap must
    # not be taken into the toe raise that follows (the toe raise would then be measured as the
    # larger heel movement and dropped)
    for seed in range(3):
        rec = simulate("heel-toe", reps=4, fs=52.0, seed=seed, hold_s=1.5,
                       conditions=Conditions(speed=1.6))  # ~1 s between raises
        heels = [q for q in rec.truth["reps"] if q["kind"] == "heel_raise"]
        keep = _kept_outside(rec.t_s, [(q["t_peak"] + 0.2, q["t_end"] - 0.15) for q in heels])
        reps = _count_received(rec, keep, "heel-toe")
        assert counts_of(reps, "heel-toe") == {"heel_raise": 0, "toe_raise": 4}, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_a_raise_that_starts_as_the_data_comes_back_after_a_long_gap_is_counted():
    # quick rhythmic raises on a wobbling foot, and 0.6 s of packets lost over each heel raise's
    # return, up to 0.05 s before the toe raise that follows: the heel raise cannot be counted
    # (its return is unseen), but the person was at rest before it and is back near rest as the
    # data returns, so the toe raise can be (hard seed 5775; before, 4 of these 12 counted).
    # Not every one yet (3 or 4 of each 4): the estimate is still settling from the gap as a
    # quick raise rises, and reads the raises it counts 2-6 deg low.
    toes = []
    for seed in range(3):
        rec = simulate("heel-toe", reps=4, fs=52.0, seed=seed,
                       conditions=Conditions(rhythmic=True, wobble_deg=2.0, speed=1.8))
        qs = rec.truth["reps"]
        gaps = [(b["t_start"] - 0.65, b["t_start"] - 0.05)
                for a, b in zip(qs[:-1], qs[1:], strict=True) if a["kind"] == "heel_raise"]
        counts = counts_of(_count_received(rec, _kept_outside(rec.t_s, gaps), "heel-toe"), "heel-toe")
        assert counts["heel_raise"] == 0, seed
        toes.append(counts["toe_raise"])
    assert min(toes) >= 3 and sum(toes) >= 10, toes


def test_quick_toe_raises_whose_tops_are_lost_under_tremor_are_mostly_counted():
    # quick rhythmic raises on a shaking foot (1.2 deg at 6 Hz), 0.35 s of packets lost over
    # every toe raise's top: the gap is bridged on the gyro, whose line between two shaken
    # samples misses the raise, while the accelerometer sees it once its filter has forgotten
    # the gap. Pulled onto it at tau 0.15 s from 0.2 s after the gap, 8 of these 32 toe raises
    # counted (hard heel-toe 6410, 6513: one lost each); at 0.04 s from 0.16 s, 18. The rest are
    # back down before the accelerometer can be trusted again. No heel raise is lost or added.
    toes = []
    for seed in range(8):
        rec = simulate("heel-toe", reps=4, fs=100.0, seed=seed,
                       conditions=Conditions(rhythmic=True, speed=1.8, tremor_amp_deg=1.2,
                                             tremor_hz=6.0))
        gaps = [(q["t_peak"] - 0.3, q["t_peak"] + 0.05) for q in rec.truth["reps"]
                if q["kind"] == "toe_raise"]
        counts = counts_of(_count_received(rec, _kept_outside(rec.t_s, gaps), "heel-toe"), "heel-toe")
        assert counts["heel_raise"] == 4, seed
        toes.append(counts["toe_raise"])
    assert max(toes) <= 4 and sum(toes) >= 16, toes


def test_a_raise_whose_rise_is_lost_under_tremor_is_measured_where_it_is_held():
    # quick raises on a shaking foot (1.6 deg at 5.4 Hz), 0.37 s of packets lost from 0.25 s
    # into each: across the gap and while it converges after it, the estimate overshot by up to
    # 18.5 deg (21 of these 64 raises more than 5 deg high, holds up to 1.9 s short). Held
    # after the gap, the raise is up where it is held, and measured there.
    for seed in range(8):
        rec = simulate("heel-toe", reps=4, fs=100.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.6, tremor_hz=5.4, speed=1.6))
        gaps = [(q["t_start"] + 0.25, q["t_start"] + 0.62) for q in rec.truth["reps"]]
        reps = _count_received(rec, _kept_outside(rec.t_s, gaps), "heel-toe")
        assert [r.kind for r in reps] == ["heel_raise", "toe_raise"] * 4, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 3.0)
        for r, q in zip(reps, rec.truth["reps"], strict=True):
            assert r.hold_s == pytest.approx(q["hold_s"], abs=1.0), seed


def test_a_wall_slide_whose_return_is_cut_by_a_long_gap_is_counted():
    # 0.55 s of packets lost on every slide's way back up, 0.5-0.9 s before it is back: the
    # slide is past half-way back as the gap begins and standing after it, so it counts, measured
    # on what came before the gap. Before, taken as held through the gap, the slide was lost
    # (0 of 12 at 0.7 s and 0.9 s), or the slide's bottom became the rest (hard 7035)
    for seed in range(4):
        rec = simulate("wall-slide", reps=3, fs=52.0, seed=seed)
        for before_end_s in (0.5, 0.9):
            gaps = [(q["t_end"] - before_end_s, q["t_end"] - before_end_s + 0.55)
                    for q in rec.truth["reps"]]
            reps = _count_received(rec, _kept_outside(rec.t_s, gaps), "wall-slide")
            assert len(reps) == 3, (seed, before_end_s)
            _amplitudes_match(reps, rec.truth, "depth_deg", 1.0)


def test_a_wall_slide_begun_in_a_long_gap_is_counted_with_its_depth_and_hold():
    # 0.6 s of packets lost as every slide begins, or 0.3 s into it: the person was standing at
    # rest before the gap and is held at the slide's depth after it, so the slide goes on from
    # standing. Before, 8 of these 24 slides counted: the rest of them were blocked as a movement
    # begun before the person was back at rest, and the first slide's bottom could become the
    # rest, every later slide then read upside down (hard 7224, 7241)
    for seed in range(4):
        rec = simulate("wall-slide", reps=3, fs=52.0, seed=seed)
        for into_s in (0.0, 0.3):
            gaps = [(q["t_start"] + into_s, q["t_start"] + into_s + 0.6) for q in rec.truth["reps"]]
            reps = _count_received(rec, _kept_outside(rec.t_s, gaps), "wall-slide")
            assert len(reps) == 3, (seed, into_s)
            _amplitudes_match(reps, rec.truth, "depth_deg", 1.0)
            for r, q in zip(reps, rec.truth["reps"], strict=True):
                assert r.hold_s == pytest.approx(q["hold_s"], abs=0.2), (seed, into_s)


def test_a_wall_slide_held_through_a_long_gap_is_counted_with_its_whole_hold():
    # 1 s of packets lost in the middle of every slide's hold: the person is still down when the
    # data comes back, so the slide goes on and counts, its hold taken across the gap (before,
    # each was dropped at the gap, and none of the set counted)
    for seed in range(3):
        rec = simulate("wall-slide", reps=3, fs=52.0, seed=seed)
        mid = [(q["t_peak"] + q["t_end"]) / 2 for q in rec.truth["reps"]]
        reps = _count_received(rec, _kept_outside(rec.t_s, [(m - 0.5, m + 0.5) for m in mid]),
                               "wall-slide")
        assert len(reps) == 3, seed
        _amplitudes_match(reps, rec.truth, "depth_deg", 1.0)
        for r, q in zip(reps, rec.truth["reps"], strict=True):
            assert r.hold_s == pytest.approx(q["hold_s"], abs=0.2), seed


def test_a_raise_held_through_a_long_gap_is_counted():
    # raises held 2 s, 0.7 s of packets lost inside every hold (none counted before)
    for seed in range(3):
        rec = simulate("heel-toe", reps=4, fs=50.0, seed=seed, hold_s=2.0)
        gaps = [(q["t_peak"] + 0.2, q["t_peak"] + 0.9) for q in rec.truth["reps"]]
        reps = _count_received(rec, _kept_outside(rec.t_s, gaps), "heel-toe")
        assert [r.kind for r in reps] == ["heel_raise", "toe_raise"] * 4, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 1.0)
        assert all(r.hold_s == pytest.approx(2.0, abs=0.2) for r in reps), seed


def test_packets_lost_mid_stride_leave_the_walk_after_a_set_uncounted():
    # 0.3 s lost in the walk after a rhythmic set: just after the gap, the accelerometer of a
    # foot swinging through a stride was taken for gravity and the estimate went 25-30 deg off,
    # so a step later read as a raise (seeds 1 and 6, before: one extra raise each)
    for seed in range(8):
        rec = simulate("heel-toe", reps=4, fs=104.0, seed=seed,
                       conditions=Conditions(rhythmic=True, distractors=("walk",)))
        walk = next(d for d in rec.truth["distractors"] if d["kind"] == "walk")
        keep = _kept_outside(rec.t_s, [(walk["t_end"] - 1.2, walk["t_end"] - 0.9)])
        assert counts_of(_count_received(rec, keep, "heel-toe"), "heel-toe") == {
            "heel_raise": 4, "toe_raise": 4}, seed


def test_a_lift_back_at_rest_just_before_a_long_gap_is_counted():
    # 0.7 s of packets lost just as every other lift comes back down: the lift is back at rest,
    # only the short look past its return (is it a stride?) is cut off, as at the end of a
    # recording; it counts
    for seed in range(3):
        rec = simulate("march", reps=6, fs=50.0, seed=seed)
        keep = _kept_outside(rec.t_s, [(q["t_end"], q["t_end"] + 0.7) for q in rec.truth["reps"][::2]])
        reps = _count_received(rec, keep, "march")
        assert len(reps) == 6, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_a_quick_lift_under_tremor_just_back_as_a_long_gap_begins_is_counted():
    # the same, with quick lifts on a shaking leg (1.4 deg at 5.8 Hz): the estimate lags the
    # return (the gyro carries it while the leg moves) and still reads the lift a few degrees up
    # as the gap begins, while the accelerometer reads it back at rest (hard march 6447). Taken
    # back by the accelerometer: 36 of 36 lifts; before, 26
    for seed in range(6):
        rec = simulate("march", reps=6, fs=100.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.4, tremor_hz=5.8, speed=1.5))
        keep = _kept_outside(rec.t_s, [(q["t_end"], q["t_end"] + 0.6) for q in rec.truth["reps"][::2]])
        reps = _count_received(rec, keep, "march")
        assert len(reps) == 6, seed
        # the lifts taken back are measured as the whole recording's are (within 2.2 deg under
        # this tremor); the lift after each gap can read 3-6 deg low, the estimate still settling
        _amplitudes_match(reps[::2], rec.truth, "amplitude_deg", 2.5)


def test_a_small_toe_raise_whose_top_is_lost_under_tremor_still_counts():
    # 11-12 deg toe raises with a strong tremor (2 deg at 4.7 Hz) and 0.3 s of packets lost over
    # each one's top: outside the gap the raise is seen at ~9 deg, short of the 10 deg a rep
    # needs, but at more than half of its size, so it is a raise (a walking step hidden by a gap
    # is seen at far less of the size the gap makes of it)
    for seed in range(3):
        rec = simulate("heel-toe", reps=4, fs=50.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=2.0, tremor_hz=4.7, amplitude_scale=0.7))
        toes = [q for q in rec.truth["reps"] if q["kind"] == "toe_raise"]
        keep = _kept_outside(rec.t_s, [(q["t_peak"] - 0.05, q["t_peak"] + 0.25) for q in toes])
        reps = _count_received(rec, keep, "heel-toe")
        assert counts_of(reps, "heel-toe") == {"heel_raise": 4, "toe_raise": 4}, seed


def test_the_first_step_of_a_walk_is_not_a_raise_even_when_packets_are_lost_in_it():
    # standing still, then walking away; 0.35 s of packets are lost 0.15 or 0.3 s into the first
    # step, where the foot pitches as in a raise. Outside the gap the accelerometer shows the foot
    # accelerating through the air (30-90 deg away from the estimated up direction; a raise
    # pivots on the floor: at most ~11 deg), so the step is no raise
    for seed, into_step_s in ((2, 0.15), (5, 0.15), (1, 0.3), (4, 0.3), (7, 0.3)):
        rec = simulate("heel-toe", reps=4, fs=50.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.0, tremor_hz=6.0,
                                             distractors=("walk",)))
        walk = rec.truth["distractors"][0]
        rate = np.linalg.norm(rec.gyr_rad_s, axis=1)
        first = rec.t_s[np.flatnonzero((rec.t_s > walk["t_start"]) & (rate > 0.5))[0]]
        keep = _kept_outside(rec.t_s, [(first + into_step_s, first + into_step_s + 0.35)])
        reps = _count_received(rec, keep, "heel-toe")
        assert counts_of(reps, "heel-toe") == {"heel_raise": 4, "toe_raise": 4}, seed


def test_a_walks_first_step_just_after_a_long_gap_is_mostly_not_a_heel_raise():
    # slow walkers with a tremor (1.5 deg at 5 Hz); 0.75 s of packets lost up to 0.4-0.5 s into
    # each walk before and after the set, ending just before its first step pushes off: the
    # accelerometer is not trusted while the estimate settles, the push-off reads as a heel
    # raise going over into a toe raise, and only the swing after it is seen flying (hard 7017,
    # 7140). Counted as a heel raise in 23 of these 40 sets; the swing now cancels it.
    wrong = 0
    for seed in range(20):
        rec = simulate("heel-toe", reps=3, fs=50.0, seed=seed,
                       conditions=Conditions(distractors=("walk",), speed=0.6, tremor_amp_deg=1.5,
                                             tremor_hz=5.0))
        walks = [d["t_start"] for d in rec.truth["distractors"] if d["kind"] == "walk"]
        for into_s in (0.4, 0.5):
            keep = _kept_outside(rec.t_s, [(w + into_s - 0.75, w + into_s) for w in walks])
            counts = counts_of(_count_received(rec, keep, "heel-toe"), "heel-toe")
            assert counts["toe_raise"] == 3 and counts["heel_raise"] >= 3, seed
            wrong += counts["heel_raise"] != 3
    assert wrong <= 2


def test_sitting_down_with_a_link_that_drops_packets_every_moment_still_counts_every_lift():
    # standing, then sitting down for the set; a quarter of a second of packets lost every 0.75 s
    # between sitting down and the first lift, so the seat is never seen held 1 s without a gap
    # (hard march 7586: the first six of ten lifts lost). A short gap whose two ends agree does
    # not end a hold: 12 of 12 lifts, against 9 before
    for seed in (2, 3, 5):
        rec = simulate("march", reps=4, fs=50.0, seed=seed, conditions=Conditions(distractors=("sit_stand",)))
        sat = rec.truth["distractors"][0]["t_end"]
        first = rec.truth["reps"][0]["t_start"]
        gaps = [(sat + a, sat + a + 0.26) for a in np.arange(0.25, first - sat - 0.3, 0.75)]
        reps = _count_received(rec, _kept_outside(rec.t_s, gaps), "march")
        assert len(reps) == 4, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 2.0)


def test_a_lift_that_starts_just_after_a_long_gap_is_counted():
    # 0.7 s of packets lost while the thigh rests before every other lift, the data coming back
    # 30 ms before the lift starts, with a shaking leg (1.5 deg tremor at 5 Hz): the thigh was at
    # rest before the gap and is at rest after it, so the still spell a lift starts from is taken
    # to have gone on through the gap, and the lift counts
    for seed in (0, 2, 3):
        rec = simulate("march", reps=6, fs=50.0, seed=seed,
                       conditions=Conditions(tremor_amp_deg=1.5, tremor_hz=5.0))
        lifts = rec.truth["reps"]
        keep = _kept_outside(rec.t_s, [(q["t_start"] - 0.75, q["t_start"] - 0.03) for q in lifts[1::2]])
        reps = _count_received(rec, keep, "march")
        assert len(reps) == 6, seed
        # (up to 2.0 deg high: the lift's start is read while the estimate settles after the gap)
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 3.0)


def test_very_slow_seated_lifts_are_not_taken_for_a_new_place_to_sit():
    # lifts over ~2 s after a long still spell on the seat: the thigh leaves so slowly that it is
    # still "held" (within a few degrees of its recent average) as it passes 5 deg; that hold
    # began on the seat, and counted from there it was already longer than the 6 s after which a
    # held place is the new rest (one lift lost in seed 0 while a short gap carried holds over)
    for seed in range(12):
        rec = simulate("march", reps=6, fs=104.0, seed=seed, conditions=Conditions(speed=0.3))
        reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="march", fs=rec.fs)
        assert len(reps) == 6, seed
        _amplitudes_match(reps, rec.truth, "amplitude_deg", 1.5)


def test_a_wobbling_person_who_starts_a_set_soon_after_the_recording_begins_keeps_every_rep():
    # a foot never quite still (1.8 deg RMS, mostly rolling) and the first heel raise 1.4 s after
    # the recording starts: the foot was never held 1 s before it, the raise's own hold was, and
    # became the rest: every heel raise lost in 4 of these 16 sets before; the first rest is now
    # taken from half a second held
    for seed in range(14, 30):
        rec = simulate("heel-toe", reps=4, fs=104.0, seed=seed, conditions=Conditions(wobble_deg=1.8))
        k = rec.t_s >= rec.truth["reps"][0]["t_start"] - 1.4
        reps = count_reps(rec.t_s[k], rec.acc_m_s2[k], rec.gyr_rad_s[k], exercise="heel-toe", fs=rec.fs)
        assert counts_of(reps, "heel-toe") == {"heel_raise": 4, "toe_raise": 4}, seed


def test_very_slow_wall_slides_count_once_with_their_full_depth():
    # sliding down over ~10 s turns the thigh at 5-8 deg/s, below the rate that counts as still:
    # the slide creeping on is no hold, so no candidate rest is taken half way down (which
    # split a slide in two, or measured it from half way)
    for seed in (0, 1, 4):
        rec = simulate("wall-slide", reps=3, fs=104.0, seed=seed, conditions=Conditions(speed=0.3))
        reps = count_reps(rec.t_s, rec.acc_m_s2, rec.gyr_rad_s, exercise="wall-slide", fs=rec.fs)
        assert len(reps) == 3, seed
        _amplitudes_match(reps, rec.truth, "depth_deg", 2.0)


def test_unknown_exercise_is_a_value_error():
    with pytest.raises(ValueError, match="unknown"):
        count_reps(np.arange(10.0), np.zeros((10, 3)), np.zeros((10, 3)), exercise="squat")
