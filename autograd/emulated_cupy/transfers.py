"""The count of host <-> device copies made through the emulated CuPy: what the tests bound.

On a real GPU every copy to the host is a synchronisation (the host waits for all queued kernels), so a
training step that calls ``.get()`` or ``float(x)`` once per layer runs at the speed of its slowest round
trip.  The emulated device counts each crossing, and where it came from, so a test can say "one training
step moves exactly one scalar to the host" and name the line when it does not.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, field

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _caller() -> str:
    """``file:line`` of the first frame outside the emulated CuPy: the code that asked for the copy."""
    frame = sys._getframe(2)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE:
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} ({frame.f_code.co_name})"


@dataclass
class Transfers:
    """Copies to the host (``to_host``) and to the device (``to_device``), each with the call sites that made them."""

    to_host: int = 0
    to_device: int = 0
    sites: Counter = field(default_factory=Counter)

    def host(self, kind: str) -> None:
        self.to_host += 1
        self.sites[f"to_host {kind} at {_caller()}"] += 1

    def device(self, kind: str) -> None:
        self.to_device += 1
        self.sites[f"to_device {kind} at {_caller()}"] += 1

    def reset(self) -> None:
        self.to_host = self.to_device = 0
        self.sites.clear()

    def snapshot(self) -> tuple[int, int]:
        return self.to_host, self.to_device

    def report(self) -> str:
        """The call sites, most frequent first: what a failing bound prints."""
        return "\n".join(f"{n:6d} x {site}" for site, n in self.sites.most_common()) or "(no transfers)"


counter = Transfers()
