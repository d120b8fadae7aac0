"""Periodic: a worker's background chore (analytics flush, velocity sync) run every few
seconds of real time in a task, and once more when it stops, so a clean shutdown hands
over everything counted up to then."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Periodic:
    def __init__(self, run: Callable[[], Awaitable[None]], log: logging.Logger, what: str) -> None:
        self._run = run
        self._log = log
        self._what = what
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self, interval_s: float) -> None:
        """Run every `interval_s` seconds in a background task until stop()."""
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._every(interval_s, self._stop))

    async def stop(self) -> None:
        """End the task after a last run; nothing if it was never started."""
        if self._stop is not None and self._task is not None:
            self._stop.set()
            await self._task
            self._stop = self._task = None

    async def _every(self, interval_s: float, stop: asyncio.Event) -> None:
        stopping = False
        while not stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
                stopping = True
            try:
                await self._run()
            except Exception:  # noqa: BLE001  # a bug here must not end the chore for good
                self._log.exception("%s failed", self._what)
