"""The console sink: a live status line on a terminal, plain log lines elsewhere."""

from __future__ import annotations

import io
import time

from movecoach.events import Event
from movecoach.sinks.console import ConsoleSink

IDS = {"session_id": "s1", "device_id": "foot1"}
T0 = time.mktime((2026, 3, 2, 9, 30, 0, 0, 0, -1))


def session_events() -> list[Event]:
    return [
        Event("session_start", T0, {**IDS, "routine": "morning", "steps": 1, "source": "ble"}),
        Event("step_start", T0 + 1, {**IDS, "exercise": "heel-toe", "set": 1, "sets": 2, "target_reps": 10,
                                     "hold_target_s": 2.0, "placement": "on top of the right foot"}),
        Event("hold_start", T0 + 2, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "target_s": 2.0,
                                     "count": 3}),
        Event("hold_tick", T0 + 3, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "held_s": 1.0,
                                    "remaining_s": 1.0}),
        Event("hold_done", T0 + 4, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "held_s": 2.1,
                                    "target_s": 2.0}),
        Event("rep", T0 + 5, {**IDS, "exercise": "heel-toe", "kind": "heel_raise", "count": 3, "set": 1,
                              "amplitude_deg": 24.4, "depth_deg": None, "hold_s": 2.1, "hold_target_s": 2.0,
                              "hold_met": True}),
        Event("cue", T0 + 6, {**IDS, "exercise": "heel-toe", "cue": "higher", "text": "Rise a little higher"}),
        Event("set_complete", T0 + 7, {**IDS, "exercise": "heel-toe", "set": 1, "sets": 2, "reps": 10}),
        Event("session_end", T0 + 8, {**IDS, "complete": True, "summary": {
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
        "09:30:00 session s1 started: morning, 1 steps, from ble",
        "09:30:01 == heel and toe raises, set 1/2, 10 reps, hold 2 s; sensor on top of the right foot",
        "09:30:05 rep 3/10  heel raise  24 deg  hold 2.1 s",
        "09:30:06 cue: Rise a little higher",
        "09:30:07 set 1/2 complete: 10 reps",
        "09:30:08 session complete: morning, 6.2 min; heel-toe 18 reps; feel 7 (legs tired)",
    ]


def test_on_a_terminal_the_status_line_is_rewritten_in_place():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    events = session_events()
    sink.handle(events[1])  # step_start
    sink.status("heel-toe", 2, 10, 18.4, 1.2)
    assert sink.live_text() == "heel and toe raises  set 1/2  2/10  angle 18 deg  hold 1.2/2 s"
    assert out.getvalue().endswith("\r\x1b[2Kheel and toe raises  set 1/2  2/10  angle 18 deg  hold 1.2/2 s")
    sink.handle(events[5])  # rep 3
    screen = out.getvalue()
    # the live line is cleared, the rep printed as a permanent line, the live line drawn again
    assert "\r\x1b[2Krep 3/10  heel raise  24 deg  hold 2.1 s\n" in screen
    assert screen.endswith("\r\x1b[2Kheel and toe raises  set 1/2  3/10  angle 18 deg")
    sink.close()
    assert out.getvalue().endswith("\r\x1b[2K")  # nothing left half-drawn


def test_a_terminal_shows_the_hold_timer_while_holding():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=True)
    events = session_events()
    for e in events[1:4]:  # step, hold_start, hold_tick
        sink.handle(e)
    assert sink.live_text().endswith("hold 1.0/2 s")
    assert "\n" not in out.getvalue().split("== heel and toe raises")[1].split("\n", 1)[1]


def test_a_missed_hold_and_a_slide_depth_read_plainly():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=False)
    sink.handle(Event("rep", T0, {**IDS, "exercise": "wall-slide", "kind": "slide", "count": 4, "set": 1,
                                  "amplitude_deg": None, "depth_deg": 41.6, "hold_s": 3.2,
                                  "hold_target_s": 5.0, "hold_met": False}))
    assert out.getvalue() == "09:30:00 rep 4  slide  depth 42 deg  hold 3.2 s, target 5 s\n"


def test_sway_and_link_lines():
    out = io.StringIO()
    sink = ConsoleSink(out, tty=False)
    sink.handle(Event("sway", T0, {**IDS, "exercise": "sway", "metrics": {
        "rms": 0.1234, "ellipse_area_95": 0.05, "path_length": 3.1, "duration_s": 30.0}}))
    sink.handle(Event("link", T0, {**IDS, "state": "lost", "gap_s": 1.5, "lost_packets": 12}))
    assert out.getvalue().splitlines() == [
        "09:30:00 sway: rms 0.123 m/s2  ellipse 0.050 (m/s2)2  path 3.10 m/s2 over 30 s",
        "09:30:00 sensor link lost (gap 1.5 s, 12 packets lost)",
    ]
