"""Walking: a short walk around the house or hallway at the end of the programme (2 minutes)."""

from movecoach.signal.exercises import Exercise

EXERCISE = Exercise(
    name="walk",
    title="Walking",
    analysis="walk",
    nouns=("walk", "walks"),
    site="foot",
    axes="any: the analysis uses magnitudes to find each stance and levels itself at every stance",
    rep_kinds=("stride",),
    kind_nouns={"stride": ("stride", "strides")},
    angle_meaning={},
    size_word="",
    hold_where="",
    rest_posture="standing",
    rules=None,
    placement=("Strap the sensor on the top of your foot, over the laces, as for the heel-toe "
               "raises. Stand still for a moment, then walk at your own comfortable pace."),
    reps=None,
    sets=1,
    duration_s=120.0,
)
