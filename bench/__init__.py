"""Benchmarks of the live board (``make bench`` / ``python -m bench``); figures go into the README."""
from __future__ import annotations

import time
from typing import Callable


def timed(fn: Callable[[], object], runs: int = 5) -> list[float]:
    """Wall seconds of each of ``runs`` calls of ``fn``."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out
