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
        # with the back on the wall the body does not turn: 199 simulated slides (hard
        # 4700-4739, 4773-4808) turned the thigh about vertical by at most 19.3 deg (0.4 deg per
        # degree of depth), most of it gyro bias along vertical over the hold (up to ~1.3 deg/s);
        # turning round on the spot made excursions of 12-15 deg that turned 110-125 deg, counted
        # as slides with 0.5-0.6 s holds (hard 4797, 4808: 7.6-8.5 deg per degree). A deep
        # excursion can take a turn in (someone who turns to the wall and slides straight away;
        # hard 4765: a turn inside an 84 deg excursion, 50 deg, 0.6 per degree, which a fixed
        # 45 deg limit dropped), so the turn is judged against the depth once it is back
        # (rules.turned_round), not at a fixed number of degrees on the way
        max_turn_per_deg=2.0,
        unseen_start_held=True,  # (a 10-15 s hold)
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
