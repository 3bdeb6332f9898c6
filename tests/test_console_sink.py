"""The console sink: a live status line on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import io
import time

from movecoach.events import Event, from_dict
from movecoach.sinks.console import ConsoleSink

IDS = {"session_id": "s1", "device_id": "foot1"}
T0 = time.mktime((2026, 3, 2, 9, 30, 0, 0, 0, -1))


def session_events() -> list[Event]:
    return [
        from_dict("session_start", T0, {**IDS, "routine": "daily", "steps": ["heel-toe", "sway"],
                                        "source": "ble:movecoach-1a2b"}),
        from_dict("step_start", T0 + 1, {**IDS, "exercise": "heel-toe", "set": 1, "sets": 2, "target_reps": 10,
                                         "hold_target_s": 2.0, "placement": "Strap it on top of the right foot."}),
        from_dict("hold_start", T0 + 2, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "target_s": 2.0,
                                         "count": 3}),
        from_dict("hold_tick", T0 + 3, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "held_s": 1.0,
                                        "remaining_s": 1.0}),
        from_dict("hold_done", T0 + 4, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "held_s": 2.1,
                                        "target_s": 2.0}),
        from_dict("rep", T0 + 5, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "count": 3, "set": 1,
                                  "amplitude_deg": 24.4, "depth_deg": None, "hold_s": 2.1, "hold_target_s": 2.0,
                                  "hold_met": True}),
        from_dict("cue", T0 + 6, {**IDS, "exercise": "heel-toe", "cue": "higher", "text": "Rise a little higher."}),
        from_dict("set_complete", T0 + 7, {**IDS, "exercise": "heel-toe", "set": 1, "sets": 2, "reps": 10,
                                           "counts": {"heel_raise": 5, "toe_raise": 5}}),
        from_dict("session_end", T0 + 8, {**IDS, "complete": True, "summary": {
            "routine": "morning", "started_at": T0, "duration_s": 372.0, "complete": True,
            "steps": [{"exercise": "heel-toe", "target_reps": 10, "hold_target_s": 2.0,
                           "sets": [{"reps": 10}, {"reps": 8}]}],
            "sway": None, "lost_packets": 0, "feel": 7, "feel_note": "legs tired"}}),
    ]


def test_without_a_terminal_each_event_that_matters_is_one_plain_line():
    out = io.StringIO()
    sink = ConsoleSink(out)  # StringIO is no terminal
    assert sink.tty is False
    for e in session_events():
        sink.handle(e)
        sink.status("heel-toe", 3, 10, 18.0, 1.2)
    sink.close()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert lines == [
        "09:30:00 Session s1: the daily routine (heel-toe raises and standing balance), with sensor "
        "movecoach-1a2b over Bluetooth.",
        "09:30:01 Heel-toe raises: 5 heel raises and 5 toe raises, alternating; hold 2 seconds up on "
        "your toes (set 1 of 2)",
        "09:30:01   Get ready: strap it on top of the right foot.",
        "09:30:05   3 of 10: heel raise, 24° (how far your foot tilted), held 2.1 s",
        "09:30:06   Rise a little higher.",
        "09:30:07   Set 1 of 2 done: 5 heel raises and 5 toe raises.",
        "09:30:08 Session complete in 6 minutes 12 seconds: 18 heel-toe raises. Well done. You feel "
        "7 of 10 (legs tired).",
    ]


def test_on_a_terminal_the_status_line_is_rewritten_in_place():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    events = session_events()
    sink.handle(events[1])  # step_start
    sink.status("heel-toe", 2, 10, 18.4, 1.2)  # a toe raise: no hold asked, no hold shown
    assert sink.live_text() == "Heel-toe raises · set 1 of 2 · 2 of 10 · angle 18°"
    sink.handle(events[2])  # hold_start: up on the toes
    sink.status("heel-toe", 2, 10, 18.4, 1.2)
    live = "Heel-toe raises · set 1 of 2 · 2 of 10 · angle 18° · holding 1.2 of 2 s"
    assert sink.live_text() == live
    assert out.getvalue().endswith("\r\x1b[2K" + live)
    sink.handle(events[5])  # rep 3
    screen = out.getvalue()
    # the live line is cleared, the rep printed as a permanent line, the live line drawn again
    assert "\r\x1b[2K  3 of 10: heel raise, 24° (how far your foot tilted), held 2.1 s\n" in screen
    assert screen.endswith("\r\x1b[2KHeel-toe raises · set 1 of 2 · 3 of 10 · angle 18°")
    sink.close()
    assert out.getvalue().endswith("\r\x1b[2K")  # nothing left half-drawn


def test_a_terminal_shows_the_hold_timer_while_holding():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    events = session_events()
    for e in events[1:4]:  # step, hold_start, hold_tick
        sink.handle(e)
    assert sink.live_text().endswith("holding 1.0 of 2 s")
    sink.handle(events[4])  # hold_done
    sink.status("heel-toe", 2, 10, 24.0, 2.1)
    assert sink.live_text().endswith("held 2 s: done")
    assert "\n" not in out.getvalue().split("Get ready")[1].split("\n", 1)[1]


def test_the_count_in_shows_on_the_status_line_then_as_one_line():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    sink.handle(session_events()[1])
    for seconds in (3, 2, 1):
        sink.handle(from_dict("countdown", T0, {**IDS, "exercise": "heel-toe", "seconds": seconds}))
    assert sink.live_text() == "Heel-toe raises · set 1 of 2 · starting in 3, 2, 1"
    sink.handle(from_dict("countdown", T0, {**IDS, "exercise": "heel-toe", "seconds": 0}))
    assert "\r\x1b[2K  Starting in 3, 2, 1, go!\n" in out.getvalue()
    assert sink.live_text() == "Heel-toe raises · set 1 of 2 · 0 of 10"


def test_a_missed_hold_and_a_slide_depth_read_plainly():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=False)
    for count, depth, hold in ((4, 41.6, 3.2), (5, 60.2, 5.1)):
        sink.handle(from_dict("rep", T0, {**IDS, "exercise": "wall-slide", "kind": "slide", "count": count,
                                          "set": 1, "amplitude_deg": None, "depth_deg": depth, "hold_s": hold,
                                          "hold_target_s": 5.0, "hold_met": hold >= 4.8}))
    assert out.getvalue().splitlines() == [
        "09:30:00   Rep 4: slide, 42° down (how far your thigh tilted from upright: 90° is level, as "
        "if sitting), held 3.2 of 5 s",
        "09:30:00   Rep 5: slide, 60° down, held 5.1 s",
    ]


def test_a_march_lift_shows_no_hold_when_none_was_asked_for():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=False)
    sink.handle(from_dict("rep", T0, {**IDS, "exercise": "march", "kind": "lift", "count": 1, "set": 1,
                                      "target_reps": 3, "amplitude_deg": 22.4, "hold_s": 0.5,
                                      "hold_target_s": None, "hold_met": None}))
    assert out.getvalue() == "09:30:00   1 of 3: lift, 22° up (how far your thigh rose)\n"


def test_sway_and_link_lines():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=False)
    sink.handle(from_dict("sway", T0, {**IDS, "exercise": "sway", "metrics": {
        "rms": 0.1234, "ellipse_area_95": 0.05, "path_length": 3.1, "duration_s": 30.0}}))
    sink.handle(from_dict("link", T0, {**IDS, "state": "lost", "gap_s": 0.0, "lost_packets": 0}))
    sink.handle(from_dict("link", T0, {**IDS, "state": "restored", "gap_s": 1.5, "lost_packets": 12}))
    assert out.getvalue().splitlines() == [
        "09:30:00   You stood for 30 s. Sway 0.12 m/s² (how much your lower back moved, on average; "
        "smaller is steadier).",
        "09:30:00   Lost the sensor's signal: keep going, it reconnects by itself.",
        "09:30:00   Sensor connected again after 1.5 s (12 packets missed).",
    ]


def test_a_balance_trial_shows_the_time_stood_not_reps_and_angles():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    sink.handle(from_dict("step_start", T0, {**IDS, "exercise": "sway", "set": 1, "sets": 1,
                                             "target_reps": None, "duration_s": 20.0, "placement": "x"}))
    sink.status("sway", 0, None, 0.0, 12.3)
    assert sink.live_text() == "Standing balance · 12 of 20 s · stand still"


def test_a_warning_goes_above_the_status_line_not_onto_it():
    out, err = io.StringIO(), io.StringIO()
    sink = ConsoleSink(out, tty=True)
    sink.handle(session_events()[1])
    sink.status("heel-toe", 2, 10, 18.4, 0.0)
    sink.print_above("movecoach: warning: no sound output", err)
    assert out.getvalue().endswith("\r\x1b[2K" + "Heel-toe raises · set 1 of 2 · 2 of 10 · angle 18°")
    assert "\r\x1b[2K" + "Heel-toe raises" in out.getvalue().split("angle 18°", 1)[1]  # cleared, then again
    assert err.getvalue() == "movecoach: warning: no sound output\n"
    with sink.paused():  # a question: the line is cleared and stays away until the answer
        sink.status("heel-toe", 3, 10, 5.0, 0.0)
        assert out.getvalue().endswith("\r\x1b[2K")
    assert out.getvalue().endswith("3 of 10 · angle 5°")


def test_what_a_silent_voice_would_say_shows_on_the_status_line_for_a_moment(monkeypatch):
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    sink.handle(session_events()[1])
    sink.say("three", "hold_tick")
    assert sink.live_text().endswith(' · says "three"')
    sink.say("Rise a little higher.", "cue")  # already printed as a line: not repeated
    assert sink.live_text().endswith(' · says "three"')
    later = time.monotonic() + 2.5
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert "says" not in sink.live_text()  # gone once it would have been said
