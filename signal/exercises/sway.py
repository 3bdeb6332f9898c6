"""Standing balance: feet together, arms by the sides, eyes open, still for 30 s."""

from movecoach.signal.exercises import Exercise

EXERCISE = Exercise(
    name="sway",
    title="Standing balance",
    analysis="sway",
    nouns=("balance trial", "balance trials"),
    site="lower back",
    axes="+x up, +y left, +z backward (within ~10 deg)",
    rep_kinds=(),
    kind_nouns={},
    angle_meaning={},
    size_word="",
    hold_where="",
    rest_posture="standing",
    rules=None,
    placement=("Strap the sensor on your lower back, in the middle, with the arrow pointing up. "
               "Stand still, feet together, arms by your sides, eyes open."),
    reps=None,
    sets=1,
    duration_s=30.0,
)
