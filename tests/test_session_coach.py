"""SetCoach: live analyzer events become rep counts, hold countdowns and cues."""

from movecoach.coach.routine import Step, single_exercise
from movecoach.coach.session import SetCoach
from movecoach.signal.types import Rep, RepEvent


def _collect():
    """An emit for SetCoach that keeps (kind, JSON fields) of each event it makes."""
    events = []

    def emit(event_class, **fields):
        event = event_class(t_s=0.0, **fields)
        events.append((event.kind, event.data))
        return event

    return events, emit


def _heel_raise(t0: float, hold_s: float, amplitude_deg: float = 25.0) -> list[RepEvent]:
    """The live events of one heel raise that holds for hold_s, ticking every 0.25 s."""
    evs = [RepEvent("rep_start", t0, "heel_raise", 0, 5.0, 0.0)]
    held = 0.0
    while held < hold_s:
        held = round(held + 0.25, 2)
        evs.append(RepEvent("hold_tick", t0 + 1 + held, "heel_raise", 0, amplitude_deg, held))
    rep = Rep("heel_raise", t0, t0 + 1.0, t0 + 2 + hold_s, amplitude_deg, hold_s)
    evs.append(RepEvent("rep_end", rep.t_end, "heel_raise", 1, 1.0, hold_s, rep))
    return evs


def test_two_second_hold_counts_down_and_says_done():
    step = single_exercise("heel-toe", reps=10).steps[0]
    events, emit = _collect()
    coach = SetCoach(step, 1, emit)
    for ev in _heel_raise(0.0, hold_s=2.5):
        coach.on_rep_event(ev)
    kinds = [k for k, _ in events]
    assert kinds[0] == "rep_start"
    assert kinds.count("hold_start") == 1 and kinds.count("hold_done") == 1
    ticks = [d["remaining_s"] for k, d in events if k == "hold_tick"]
    assert ticks == sorted(ticks, reverse=True) and len(ticks) == 2  # "2", "1" whole seconds
    rep = next(d for k, d in events if k == "rep")
    assert rep["count"] == 1 and rep["hold_met"] is True and rep["set"] == 1
    assert "cue" not in kinds


def test_a_hold_cut_short_gets_a_gentle_cue():
    step = single_exercise("heel-toe", reps=10).steps[0]
    events, emit = _collect()
    coach = SetCoach(step, 1, emit)
    for ev in _heel_raise(0.0, hold_s=1.0):
        coach.on_rep_event(ev)
    rep = next(d for k, d in events if k == "rep")
    assert rep["hold_met"] is False
    cue = next(d for k, d in events if k == "cue")
    assert cue["cue"] == "hold_short" and "2 seconds" in cue["text"]
    assert not any(k == "hold_done" for k, _ in events)


def test_a_shallow_march_lift_is_counted_with_a_cue():
    step = Step("march", reps=3)
    events, emit = _collect()
    coach = SetCoach(step, 1, emit)
    rep = Rep("lift", 0.0, 0.5, 1.0, 11.0, 0.2)
    coach.on_rep_event(RepEvent("rep_end", 1.0, "lift", 1, 0.0, 0.2, rep))
    assert [k for k, _ in events] == ["rep", "cue"]
    assert events[1][1]["cue"] == "shallow"


def test_alternating_heel_toe_counts_run_on_and_the_set_ends_at_the_target():
    step = single_exercise("heel-toe", reps=4, hold_s=0).steps[0]
    events, emit = _collect()
    coach = SetCoach(step, 1, emit)
    for i, kind in enumerate(["heel_raise", "toe_raise", "heel_raise"]):
        rep = Rep(kind, i * 3.0, i * 3 + 1.0, i * 3 + 2.0, 20.0, 0.5)
        coach.on_rep_event(RepEvent("rep_end", rep.t_end, kind, 1, 0.0, 0.5, rep))
        assert not coach.done
    rep = Rep("toe_raise", 10.0, 11.0, 12.0, 20.0, 0.5)
    coach.on_rep_event(RepEvent("rep_end", 12.0, "toe_raise", 2, 0.0, 0.5, rep))
    assert coach.done
    assert [d["count"] for k, d in events if k == "rep"] == [1, 2, 3, 4]
    assert coach.result.counts == {"heel_raise": 2, "toe_raise": 2}
