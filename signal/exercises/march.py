"""Seated marches: sitting, lift one knee, lower it, then the other."""

from movecoach.signal.exercises import Exercise, RepRules

EXERCISE = Exercise(
    name="march",
    title="Seated marches",
    analysis="reps",
    nouns=("seated march", "seated marches"),
    site="thigh",
    axes="flat on the thigh, anywhere around it, turned any way",
    rep_kinds=("lift",),
    kind_nouns={"lift": ("lift", "lifts")},
    angle_meaning={"lift": "how far your thigh rose"},
    size_word="up",
    hold_where="with the knee up",
    rest_posture="seated",
    rules=RepRules(
        max_settle_s=6.0,
        new_rest_s=2.0,
        # a lift comes back to the seat; a walking thigh swings on through rest to the other
        # side (hip extension at push-off). From a rest known to be seated a lift's landing
        # bounces up to 8.7 deg past the seat's rest (hard 4550-4699; at 6 deg, hard 4810 lost a
        # lift that bounced 7.3), and nothing else from that rest went past it by more than 0.9;
        # where the posture is not known, a stride's 3 deg stands (rules.UNKNOWN_REVERSE_DEG)
        reverse_deg=12.0,
        after_min_s=0.2,
        chain=False,
        same_way_as_sitting=True,
        # a lift turns the thigh about vertical by at most 11 deg (simulated: ~1000 lifts of hard
        # sets 4200-4299, wobble, side, rhythmic 4000-4009); turning round on the spot while
        # standing turns it 90-180 deg (hard 4237: 150 deg, a 12 deg excursion counted before)
        max_turn_deg=30.0,
    ),
    placement=("Sit on a firm chair. Strap the sensor on your right thigh, halfway between hip "
               "and knee; anywhere round the thigh and any way up is fine."),
    posture_cue="I can't tell that you are sitting. Sit down on a firm chair to start.",
    reps=10,
    min_good_deg={"lift": 15.0},
)
