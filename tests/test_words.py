"""What the session says first, in words for the person doing it."""

from movecoach.words import session_intro


def test_the_intro_names_the_routine_its_exercises_and_the_sensor():
    text = session_intro({"session_id": 3, "routine": "daily", "source": "sim",
                          "steps": ["march", "wall-slide", "walk"]})
    assert text.startswith("Session 3: the daily routine (")
    assert text.endswith("), with the simulated sensor.")


def test_a_test_done_twice_is_named_once():
    text = session_intro({"session_id": 1, "routine": "walk-25ft", "source": "sim",
                          "steps": ["walk", "walk"]})
    assert text == "Session 1: the timed 25-foot walk, with the simulated sensor."
