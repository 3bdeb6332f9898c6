"""Where a session's samples come from, per step: a simulated wearable or one shared real link.

`sim` starts a fresh simulated wearable (the firmware core fed by the IMU simulator, served over
TCP) for every set, doing that set's exercise, and reads it through the real TCP transport and
decoder. Any other source (`ble:`, `serial:`, `tcp:`, `replay:`) is opened once and shared by all
steps: the person re-straps the sensor between steps while the link stays up.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from movecoach.coach.routine import Step
from movecoach.errors import UserError
from movecoach.link.transport import SourceURL, parse_url

log = logging.getLogger(__name__)

# the link schemes --source takes besides "sim" (loop:// is for tests)
LINK_SCHEMES = ("ble", "serial", "tcp", "replay")


def _link_url(spec: str) -> SourceURL:
    """The --source spec (either spelling, ``ble:NAME`` or ``ble://NAME``) parsed as a link URL."""
    try:
        return parse_url(spec, schemes=LINK_SCHEMES)
    except UserError as exc:
        raise UserError(f"--source: {exc}") from None


def source_url(spec: str, *, speed: float = 1.0) -> str:
    """`ble:NAME` -> `ble://NAME`, `tcp:H:P` -> `tcp://H:P`, `replay:F` -> `replay://F?speed=X`
    (X: ``speed``, unless the spec gives its own)."""
    url = _link_url(spec)
    params = dict(url.params)
    if url.scheme == "replay":
        if not Path(url.target).exists():
            raise UserError(f"--source {spec!r}: no such file {url.target}")
        params.setdefault("speed", f"{speed:g}")
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url.scheme}://{url.target}" + (f"?{query}" if query else "")


def source_device_id(spec: str) -> str:
    """A stable device id for topics and recordings, from the source spec."""
    if spec == "sim":
        return "movecoach-sim"
    url = _link_url(spec)
    if url.scheme == "ble":
        return url.target.replace(":", "").lower() if url.target.count(":") == 5 else url.target
    tail = Path(url.target).stem if url.scheme == "replay" else url.target.rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tail)
    return f"movecoach-{url.scheme}-{safe}"


def open_step_source(spec: str, *, speed: float = 1.0, seed: int | None = None) -> Any:
    """The SampleSource for a `--source` spec (see module docstring)."""
    if spec == "sim":
        return SimulatedWearables(speed=speed, seed=seed)
    return SharedSource(source_url(spec, speed=speed))


# How long past the hold target the simulated person holds: the countdown reaches "done" at the
# target, spoken within ~0.3 s, and a person reacts to it in another ~0.3 s.
HOLD_PAST_DONE_S = 0.6
# A simulated walk goes on this long past the step's end: the coach says "stop" at the end and
# reads on for the stride under way (movecoach.coach.session.WALK_SETTLE_S, 2 s) before it stops.
SIM_WALK_PAST_END_S = 5.0
# A simulated 25-foot walk: long enough to cover 7.62 m at the slowest simulated pace with a
# standing start (the coach ends the step when the distance is reached).
SIM_25FT_S = 30.0


def simulated_duration_s(step: Step) -> float | None:
    """How long the simulated person does a timed step: a balance trial its length; a walk a
    little past its end (a 25-foot walk: SIM_25FT_S)."""
    if step.analysis != "walk":
        return step.duration_s
    if step.target_m is not None:
        return SIM_25FT_S
    return (step.duration_s or 120.0) + SIM_WALK_PAST_END_S


class SimulatedWearables:
    """A simulated wearable per set, doing the step's exercise, read over TCP like real hardware."""

    def __init__(self, *, speed: float = 1.0, seed: int | None = None):
        self.speed = speed
        self.seed = seed
        self._count = 0
        self.served: list = []  # the wearables started, in order (their .recording has the truth)

    @contextlib.asynccontextmanager
    async def open(self, step: Step, set_index: int) -> AsyncIterator[Any]:
        from movecoach.link.source import open_source
        from movecoach.sim.wearable import serve_simulated

        self._count += 1
        seed = (self.seed if self.seed is not None else 0) * 1000 + self._count
        reps = step.reps or 10
        if step.exercise == "heel-toe":  # the simulator's reps are heel+toe pairs
            reps = (reps + 1) // 2
        wearable = serve_simulated(
            step.exercise,
            reps=reps,
            # told to hold until the coach says "done", a person lets go a moment after hearing it
            hold_s=step.hold_s + HOLD_PAST_DONE_S if step.hold_s else None,
            duration_s=simulated_duration_s(step),
            speed=self.speed,
            seed=seed,
        )
        self.served.append(wearable)
        try:
            async with open_source(f"tcp://127.0.0.1:{wearable.port}", reconnect=False) as samples:
                yield samples
        finally:
            wearable.stop()

    async def aclose(self) -> None:
        return None


class SharedSource:
    """One real link for the whole session, opened on first use and closed by `aclose()`."""

    def __init__(self, url: str):
        self.url = url
        self._stack = contextlib.AsyncExitStack()
        self._samples: Any = None

    async def connect(self) -> None:
        """Open the link now (before the session starts): a wearable that is not there is an
        error before anything is recorded. Later calls do nothing."""
        if self._samples is None:
            from movecoach.link.source import open_source

            self._samples = await self._stack.enter_async_context(open_source(self.url))

    @contextlib.asynccontextmanager
    async def open(self, step: Step, set_index: int) -> AsyncIterator[Any]:
        if self._samples is None:
            await self.connect()
        else:
            # Movements during the rest or while re-strapping are not part of this set.
            self._samples.discard_buffered()
        yield self._samples

    async def aclose(self) -> None:
        await self._stack.aclose()
