"""A fault started in the middle of a write (the Python side of java/.../Failover.java).

`--failover-cmd CMD` runs through the shell (for example `cluster.py kill-leader DB.T 0`, which
SIGKILLs a bucket's leader) once the writes before it are acknowledged; the writes after it are
spread over `--failover-ms` so that the client keeps writing while the cluster elects a new leader.
The client retries on its own; the drivers check that every write was acknowledged and, later,
that the table holds each exactly once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Optional


class Failover:
    def __init__(self, command: str, spread_ms: int) -> None:
        self.command = command
        self.spread_ms = spread_ms
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.started_at = 0.0
        self.exit_code: Optional[int] = None

    @property
    def started(self) -> bool:
        return self.proc is not None

    async def start(self) -> None:
        """Starts the command without waiting for it; its output goes to this process's stderr."""
        self.started_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_shell(self.command, stdout=2)

    async def pace(self, index: int, count: int) -> None:
        """Sleeps until write `index` of `count` is due: the writes after the fault span spread_ms."""
        if count <= 0:
            return
        due = self.started_at + self.spread_ms / 1000.0 * index / count
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def finish(self, timeout: float) -> None:
        """Waits (bounded) for the command; fails unless it exited 0."""
        try:
            self.exit_code = await asyncio.wait_for(self.proc.wait(), max(1.0, timeout))
        except asyncio.TimeoutError:
            self.proc.kill()
            raise AssertionError(f"failover command did not finish: {self.command}")
        assert self.exit_code == 0, f"failover command exited {self.exit_code}: {self.command}"

    def report(self) -> dict:
        return {"command": self.command, "spread_ms": self.spread_ms, "exit_code": self.exit_code,
                "seconds_after_fault": round(time.monotonic() - self.started_at, 3)}
