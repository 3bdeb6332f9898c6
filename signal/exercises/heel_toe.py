"""Heel-toe raises: standing, onto the toes and hold, lower; lift the toes; alternate, 10 each."""

from movecoach.signal.exercises import Exercise, RepRules

EXERCISE = Exercise(
    name="heel-toe",
    title="Heel-toe raises",
    analysis="reps",
    nouns=("heel-toe raise", "heel-toe raises"),
    site="foot",
    axes="+x toward the toes, +z up out of the top of the foot (within ~25 deg)",
    rep_kinds=("heel_raise", "toe_raise"),
    kind_nouns={"heel_raise": ("heel raise", "heel raises"), "toe_raise": ("toe raise", "toe raises")},
    angle_meaning={"heel_raise": "how far your foot tilted", "toe_raise": "how far your foot tilted"},
    size_word="",
    hold_where="up on your toes",
    rest_posture=None,
    rules=RepRules(
        signed=True,
        # a foot roll (onto its edge) is not a raise: at the top of a raise the pitch is at
        # least 0.7 of the whole tilt (a strap turned 25 deg on the foot still gives 0.9)
        min_pitch_share=0.7,
        max_amplitude_deg=50.0,
        max_settle_s=8.0,
        # people start with the foot flat on the floor, but one who is never quite still may not
        # be held 1 s before the first raise (a foot wobbling by 1.6 deg RMS, mostly rolling,
        # held 0.64-0.84 s at a time; the first heel raise's 2 s hold became the rest and every
        # heel raise was lost: wobble and hard 8408, hard 7287). Not for a thigh: a standing
        # person's first half second held can be a weight shift (hard wall-slide 7751: then
        # read as a 10 deg slide)
        first_rest_s=0.5,
        seen_after_gap=True,
        # heel and toe raises pivot on the floor: the accelerometer stays within 11.4 deg of up
        # on 2800 hard-condition reps of the first simulator, 8.7 deg on 789 hard, rhythmic and
        # wobbling reps of the current one, 3.4 deg on the independent simulator's; a walking
        # foot's steps read 15-94 deg, the smallest (18 deg) a last shuffle of real walking.
        # Quick raises (hard, speed 1.5-1.9) swing it 14-19 deg off for a sample or two as the
        # heel comes down (hard seeds 4032, 4079, 4091, 4238: 9 raises dropped): only what stays
        # off for segment.OFF_SUSTAIN_S counts, on the way back to level as well (that shuffle:
        # 14 deg while it tilts, 15-24 deg for 0.2 s once level)
        max_accel_off_deg=14.0,
        # ... and a raise that stops hard at its top, pivoting on the ball of the foot, keeps it
        # 14-23 deg off for 0.12-0.3 s (hard 4550, 4578, 4942, 5016: eight quick raises of 21-38
        # deg dropped as steps). Beyond 14 deg a step is what is still off up once the turn about
        # a pivot on the floor is taken out (signal/pivot.py): those raises 0.1-0.9 deg, every
        # simulated step dropped so 22.7 deg or more (hard 4550-4599), the steps of the 68 real
        # walks 14.2 deg or more (a turning step 9.6, dropped for its turn)
        pivot_free_off_deg=8.0,
        # a raise does not turn the foot about vertical (<= 3.5 deg on 789 simulated raises);
        # turning steps in real walking turn it 15-140 deg
        max_turn_deg=10.0,
        # raises can follow one another straight away (rhythmic sets: 0.05 s between)
        dwell_s=0.0,
        candidate_rests=False,
        # a foot's rest is the floor, where it lands as it was: after a gap or a walk a foot held
        # 5-12 deg off the rest reps came from is in a raise (a toe raise held through lost
        # packets), not resettled; held new_rest_s (4 s, longer than any raise is held) it is a
        # new rest only within 12 deg of the old one (set down a little differently), not
        # further off (on a step, a raise held on)
        new_rest_max_deg=12.0,
        resettle=False,
        # quick raises are measured at 3 Hz, not 2: a raise rising in 0.3 s with no hold (hard,
        # rhythmic, speed 1.9) read 20 % low after the 2 Hz pre-filter and a 2 Hz measure (14 % at
        # 3 Hz; hard seed 4238: a 12 deg toe raise read under 10 and was lost); tremor (4-10 Hz,
        # at most 3 deg) still leaves under 0.05 deg
        tremor_cutoff_hz=3.0,
        # within a set a raise counts from 8.5 deg: toe raises of 10.1-11.8 deg read 9.0-9.9
        # after a heel raise (hard seed 4256, tremor 0.7 deg at 8 Hz: every quick raise's top
        # read ~1 deg low, and a foot rocking 1.6 deg puts the truth's starting point ~0.7 deg
        # either side of the rest; 4200-4229: estimate minus true angle at the top 5th
        # percentile -1.3 deg). Outside a set 10 deg stands: at 8.5-9 deg from the first step
        # two real walks (IPOL 1-5_lf, 1-6_lf) each gave a raise.
        min_amplitude_in_set_deg=8.5,
    ),
    placement=("Strap the sensor on the top of your foot, over the laces, with the arrow "
               "towards your toes. Stand holding a counter or chair back for balance."),
    reps=20,
    hold_s=2.0,
    hold_kinds=("heel_raise",),
    min_good_deg={"heel_raise": 12.0, "toe_raise": 10.0},
)
