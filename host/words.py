"""What the coach says and shows, in words for the person exercising (not for a programmer).

One place for the sentences the console and the voice share, built from event payloads (plain
dicts, see movecoach.events): the step's header and instructions, a rep, a finished set, the
balance result, the walk's minutes and result, the session summary. Units are written the way
a person reads them: degrees as "°", seconds as "s" after the first "seconds", acceleration
explained where it appears, distances and speeds in whole words ("metres", "metres a second":
the voice says them as written).
"""

from __future__ import annotations

from movecoach.coach.routine import plural
from movecoach.coach.timed_walk import WALK_TESTS
from movecoach.signal.exercises import KIND_EXERCISE, KIND_NOUNS, REGISTRY

_REP = ("rep", "reps")


def exercise_title(exercise: str | None) -> str:
    """``Seated marches``; an unknown name is made readable (``side-step`` -> ``Side step``)."""
    if exercise in REGISTRY:
        return REGISTRY[exercise].title
    return (exercise or "exercise").replace("-", " ").replace("_", " ").capitalize()


def _exercise_nouns(exercise: str | None) -> tuple[str, str]:
    return REGISTRY[exercise].nouns if exercise in REGISTRY else _REP


def _num(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def seconds_words(seconds: float) -> str:
    """``45 seconds``, ``1 minute 30 seconds``, ``12 minutes`` (a session's or a rest's length)."""
    total = int(round(seconds))
    if total < 60:
        return plural(total, ("second", "seconds"))
    minutes, secs = divmod(total, 60)
    if minutes >= 10 or secs == 0:
        return plural(round(total / 60), ("minute", "minutes"))
    return f"{plural(minutes, ('minute', 'minutes'))} {plural(secs, ('second', 'seconds'))}"


def and_list(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def target_words(exercise: str | None, target_reps: int | None) -> str:
    """What a set asks for: ``3 lifts``, ``3 heel raises and 3 toe raises, alternating``."""
    if not target_reps:
        return ""
    kinds = REGISTRY[exercise].rep_kinds if exercise in REGISTRY else ()
    if len(kinds) > 1:  # several kinds, alternating: "3 heel raises and 3 toe raises"
        if target_reps % len(kinds) == 0:
            each = target_reps // len(kinds)
            return and_list([plural(each, KIND_NOUNS[k]) for k in kinds]) + ", alternating"
        return f"{target_reps} reps, " + and_list([KIND_NOUNS[k][1] for k in kinds]) + " alternating"
    return plural(target_reps, KIND_NOUNS[kinds[0]] if kinds else _REP)


def analysis_of(exercise: str | None) -> str:
    """What the exercise measures: 'reps', 'sway' or 'walk' ('reps' for a name not registered)."""
    return REGISTRY[exercise].analysis if exercise in REGISTRY else "reps"


def metres_words(metres: float) -> str:
    """``7.6 metres`` under 10 m, ``152 metres`` above (a tape measure's precision)."""
    if metres < 10:
        return f"{metres:.1f} metres" if round(metres, 1) != 1 else "1 metre"
    return f"{metres:.0f} metres"


def speed_words(m_s: float) -> str:
    """``1.2 metres a second``."""
    return f"{m_s:.1f} metres a second"


def step_header(data: dict) -> str:
    """``Wall slides: 5 slides, hold 10 seconds at the bottom (set 1 of 2)``; ``Walking: walk
    for 2 minutes``; ``Timed 25-foot walk: 25 feet (7.6 metres), as quickly as you safely can``."""
    exercise = data.get("exercise")
    parts = []
    test = WALK_TESTS.get(str(data.get("test")))
    if test is not None:
        if test.distance_m:
            parts.append(f"25 feet ({metres_words(test.distance_m)}), as quickly as you safely can"
                         if test.name == "25ft" else f"{metres_words(test.distance_m)}")
        elif test.duration_s:
            parts.append(f"as far as you can in {seconds_words(test.duration_s)}")
        return f"{test.title}{_trial_of(data)}: " + "; ".join(parts)
    if analysis_of(exercise) == "walk":
        if _num(data.get("duration_s")):
            parts.append(f"walk for {seconds_words(data['duration_s'])}")
    elif analysis_of(exercise) == "sway":
        if _num(data.get("duration_s")):
            parts.append(f"stand still for {seconds_words(data['duration_s'])}")
    else:
        target = target_words(exercise, data.get("target_reps"))
        if target:
            parts.append(target)
        hold = data.get("hold_target_s")
        if _num(hold) and hold > 0:
            where = REGISTRY[exercise].hold_where if exercise in REGISTRY else ""
            parts.append(f"hold {hold:g} second{'' if hold == 1 else 's'}" + (f" {where}" if where else ""))
    text = exercise_title(exercise) + (": " + "; ".join(parts) if parts else "")
    if _num(data.get("sets")) and data["sets"] > 1 and _num(data.get("set")):
        text += f" (set {data['set']} of {data['sets']})"
    return text


def get_ready(data: dict) -> str:
    """``Get ready: sit on a firm chair. Strap the sensor ...`` from the step's placement."""
    placement = str(data.get("placement") or "").strip()
    if not placement:
        return "Get ready."
    return "Get ready: " + placement[0].lower() + placement[1:]


def countdown_words(seconds: int) -> str:
    """``3``, ``2``, ``1``, then ``go!``."""
    return str(seconds) if seconds > 0 else "go!"


def rep_text(data: dict, target: int | None = None, *, explain: bool = False) -> str:
    """One rep for the screen: ``2 of 6: heel raise, 21°, held 2.0 s``; ``explain`` adds what
    the angle means (the first rep of an exercise)."""
    kind = str(data.get("kind") or "")
    count = data.get("count")
    head = f"{count} of {target}" if target else f"Rep {count}"
    parts = [KIND_NOUNS.get(kind, (kind.replace("_", " "),))[0]]
    angle = data.get("depth_deg") if _num(data.get("depth_deg")) else data.get("amplitude_deg")
    ex = REGISTRY.get(KIND_EXERCISE.get(kind, ""))
    if _num(angle):
        text = f"{angle:.0f}°" + (f" {ex.size_word}" if ex is not None and ex.size_word else "")
        if explain and ex is not None and kind in ex.angle_meaning:
            text += f" ({ex.angle_meaning[kind]})"
        parts.append(text)
    hold_s, hold_target = data.get("hold_s"), data.get("hold_target_s")
    if _num(hold_s) and _num(hold_target) and hold_target > 0:
        if data.get("hold_met") is False:
            parts.append(f"held {hold_s:.1f} of {hold_target:g} s")
        else:
            parts.append(f"held {hold_s:.1f} s")
    return f"{head}: " + ", ".join(p for p in parts if p)


def counts_words(counts: dict | None, reps: int | None, exercise: str | None) -> str:
    """``10 lifts``; heel-toe ``3 heel raises and 3 toe raises`` (from a set's per-kind counts)."""
    if isinstance(counts, dict) and counts:
        return and_list([plural(int(n), KIND_NOUNS.get(k, (k, k))) for k, n in counts.items()])
    return plural(int(reps or 0), _exercise_nouns(exercise))


def set_done(data: dict) -> str:
    """``Set 1 of 2 done: 10 lifts.`` (``Done: 3 lifts.`` when there is one set)."""
    what = counts_words(data.get("counts"), data.get("reps"), data.get("exercise"))
    sets = data.get("sets")
    if _num(sets) and sets > 1:
        return f"Set {data.get('set')} of {sets} done: {what}."
    return f"Done: {what}."


def sway_text(metrics: dict) -> str:
    """The balance result: how long, and the sway with what it means."""
    parts = []
    if _num(metrics.get("duration_s")):
        parts.append(f"You stood for {metrics['duration_s']:.0f} s.")
    if _num(metrics.get("rms")):
        parts.append(f"Sway {metrics['rms']:.2f} m/s² (how much your lower back moved, on average; "
                     "smaller is steadier).")
    return " ".join(parts) or "Balance trial done."


def _trial_of(data: dict) -> str:
    """`` (trial 1 of 2)`` for a test done several times, else nothing."""
    trials = data.get("trials")
    if _num(trials) and trials > 1 and _num(data.get("trial")):
        return f" (trial {data['trial']} of {trials})"
    return ""


def rest_words(data: dict) -> str:
    """``Rest for 30 seconds.``; between the trials of a timed walk: walk back to the start."""
    if data.get("walk_back"):
        return "Walk back to the start, turn round and stand still."
    seconds = data.get("seconds")
    return f"Rest for {seconds_words(seconds)}." if _num(seconds) else "Rest."


def walk_minute_words(data: dict) -> str:
    """Said every minute of a walk: ``1 minute: 82 metres so far.``"""
    minute = int(data.get("minute") or 0)
    text = plural(minute, ("minute", "minutes"))
    if _num(data.get("distance_m")):
        text += f": {metres_words(data['distance_m'])} so far"
    return text + "."


def walk_text(data: dict) -> str:
    """The walk's result, said and shown: ``You walked 152 metres in 2 minutes, at 1.3 metres a
    second and 108 steps a minute.``; a 25-foot walk: ``25 feet in 6.1 seconds ...``."""
    test = WALK_TESTS.get(str(data.get("test")))
    distance, speed = data.get("distance_m"), data.get("speed_m_s")
    cadence = data.get("cadence_spm")
    pace = []
    if _num(speed):
        pace.append(speed_words(speed))
    if _num(cadence):
        pace.append(f"{cadence:.0f} steps a minute")
    at = f", at {and_list(pace)}" if pace else ""
    if test is not None and test.distance_m:
        t = data.get("test_time_s")
        title = test.title + _trial_of(data)
        if not _num(t) or not data.get("test_done", True):
            walked = f" ({metres_words(distance)} walked)" if _num(distance) else ""
            text = f"{title}: the {metres_words(test.distance_m)} were not reached{walked}."
        elif t > 0:
            text = (f"{title}: {_time_words(t)}, at {speed_words(test.distance_m / t)}.")
        else:
            text = f"{title} done."
        mean = data.get("test_mean_s")
        if _num(mean):
            text += f" Your time, the mean of your trials: {_time_words(mean)}."
        return text
    if test is not None:
        d = data.get("test_distance_m")
        if not _num(d):
            return f"{test.title} done."
        return f"{test.title}: {metres_words(d)} in {seconds_words(test.duration_s or 0)}{at}."
    if not _num(distance) or not data.get("strides"):
        return "Walk done: no walking steps were found."
    when = f" in {seconds_words(data['duration_s'])}" if _num(data.get("duration_s")) else ""
    return f"You walked {metres_words(distance)}{when}{at}."


def _time_words(seconds: float) -> str:
    """``6.4 seconds`` (a timed walk's tenths matter), ``1 minute 5 seconds`` from a minute on."""
    return seconds_words(seconds) if seconds >= 60 else f"{seconds:.1f} seconds"


def walk_summary_words(walk: dict) -> str:
    """The walk in a session summary: ``a 2-minute walk of 152 metres``, ``a timed 25-foot walk
    in 6.1 seconds``."""
    test = WALK_TESTS.get(str(walk.get("test")))
    if test is not None and test.distance_m:
        t, mean = walk.get("test_time_s"), walk.get("test_mean_s")
        if _num(mean):
            return f"a {test.title[0].lower()}{test.title[1:]} in {_time_words(mean)} (the mean of your trials)"
        return f"a {test.title[0].lower()}{test.title[1:]}" + (
            f" in {_time_words(t)}" if _num(t) and walk.get("test_done", True) else "")
    distance = walk.get("distance_m")
    if test is not None:
        return f"a {test.title[0].lower()}{test.title[1:]}" + (
            f" of {metres_words(walk['test_distance_m'])}" if _num(walk.get("test_distance_m")) else "")
    return "a walk" + (f" of {metres_words(distance)}" if _num(distance) else "")


def summary_words(summary: dict) -> str:
    """``3 seated marches, 1 wall slide, 6 heel-toe raises, a balance trial and a walk of 152
    metres``."""
    items = []
    for step in summary.get("steps") or []:
        if not isinstance(step, dict):
            continue
        n = sum(s.get("reps", 0) for s in step.get("sets") or []
                if isinstance(s, dict) and isinstance(s.get("reps"), int))
        items.append(plural(n, _exercise_nouns(str(step.get("exercise")))))
    if not items and isinstance(summary.get("reps"), int):
        items.append(plural(summary["reps"], ("rep", "reps")))
    if summary.get("sway"):
        items.append("a balance trial")
    if isinstance(summary.get("walk"), dict):
        items.append(walk_summary_words(summary["walk"]))
    return and_list(items)


def summary_sentence(summary: dict | None, complete: bool = True) -> str:
    """The end of a session, said and shown: ``Session complete in 1 minute 30 seconds: 3 seated
    marches, 1 wall slide and a balance trial. Well done.``"""
    summary = summary or {}
    head = "Session complete" if complete else "Session ended early"
    if _num(summary.get("duration_s")):
        head += (" in " if complete else " after ") + seconds_words(summary["duration_s"])
    what = summary_words(summary)
    text = head + (f": {what}." if what else ".")
    return text + (" Well done." if complete else " What you did is saved.")


def feel_words(summary: dict) -> str:
    """``You feel 7 of 10 (legs tired).`` or nothing."""
    if summary.get("feel") is None:
        return ""
    note = summary.get("feel_note")
    return f"You feel {summary['feel']} of 10" + (f" ({note})." if note else ".")


def source_words(source: str | None) -> str:
    """``the simulated sensor``, ``sensor movecoach-1a2b over Bluetooth``, ... from ``--source``."""
    spec = str(source or "")
    scheme, _, rest = spec.partition(":")
    rest = rest.removeprefix("//")
    if scheme == "sim" or not spec:
        return "the simulated sensor"
    if scheme == "ble":
        return f"sensor {rest} over Bluetooth" if rest else "the nearest sensor over Bluetooth"
    if scheme == "serial":
        return f"the sensor on {rest} (USB)"
    if scheme == "tcp":
        return f"the sensor at {rest} (network)"
    if scheme == "replay":
        return f"the recording {rest.split('?')[0]}"
    return spec


def session_intro(data: dict) -> str:
    """``Session 3: the daily routine (seated marches, ...), with the simulated sensor.``"""
    routine = data.get("routine")
    test = WALK_TESTS.get(str(routine).rpartition("-")[2])
    name = {"daily": "the daily routine", "demo": "a short demo routine"}.get(
        str(routine), f"{exercise_title(str(routine)).lower()}" if routine else "a session")
    if test is not None:
        name = f"the {test.title[0].lower()}{test.title[1:]}"
    steps = data.get("steps")
    titles = [exercise_title(str(s)).lower() for s in steps] if isinstance(steps, list) else []
    titles = list(dict.fromkeys(titles))  # a test done twice is one walk, not "walking and walking"
    text = f"Session {data.get('session_id', '')}: {name}"
    if len(titles) > 1 and test is None:
        text += f" ({and_list(titles)})"
    return text + f", with {source_words(data.get('source'))}."
