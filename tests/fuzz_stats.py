"""Counts of what the fuzz tests tried, for the record: ``TAPEGRAD_FUZZ_STATS=FILE`` appends them as JSON lines.

Each fuzz test counts its inputs, the clean outcomes (success, or the one error it is allowed to raise) and
anything else (which also fails the test); the counts are how the issue's closing note is written.
"""

from __future__ import annotations

import json
import os
from collections import Counter

COUNTS: Counter[str] = Counter()


def count(test: str, outcome: str) -> None:
    COUNTS[f"{test}:inputs"] += 1
    COUNTS[f"{test}:{outcome}"] += 1


def dump() -> None:
    path = os.environ.get("TAPEGRAD_FUZZ_STATS")
    if path and COUNTS:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(dict(sorted(COUNTS.items()))) + "\n")
        COUNTS.clear()
