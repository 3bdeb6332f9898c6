"""Wall slides: back against a wall, slide down toward a 90 deg knee, hold 10-15 s, slide up."""

from movecoach.signal.exercises import Exercise, RepRules

EXERCISE = Exercise(
    name="wall-slide",
    title="Wall slides",
    analysis="reps",
    nouns=("wall slide", "wall slides"),
    site="thigh",
    axes="flat on the thigh, anywhere around it, turned any way",
    rep_kinds=("slide",),
    kind_nouns={"slide": ("slide", "slides")},
    angle_meaning={"slide": "how far your thigh tilted from upright: 90° is level, as if sitting"},
    size_word="down",
    further="deeper",
    hold_where="at the bottom",
    rest_posture="standing",
    rules=RepRules(
        min_rep_s=2.0,
        max_amplitude_deg=120.0,
        max_settle_s=600.0,
        new_rest_max_deg=30.0,
        min_hold_s=0.5,
        max_swings=3,  # a slide goes down and comes up once; walking swings the thigh every step
    ),
    placement=("Strap the sensor on your thigh, halfway between hip and knee, anywhere round it. "
               "Stand with your back against a wall, feet a step in front of it."),
    posture_cue="Stand up straight with your back against the wall to start.",
    reps=5,
    hold_s=10.0,
    hold_kinds=("slide",),
    rest_s=45.0,
    min_good_deg={"slide": 40.0},
    size_field="depth_deg",
)
