"""Shared pieces of the benchmarks: a table row, side-by-side median timing, the machine's name.

Every benchmark module exposes ``rows() -> list[Row]``; ``run_all.py`` prints them as one table and
writes ``benchmarks/results/<machine>.csv``.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's alnb, not an installed one


@dataclass
class Row:
    """One line of the table. ``ratio`` is the speed-up of alnb: baseline time / alnb time (for a
    throughput in images/s, alnb / baseline); empty when there is no baseline."""

    benchmark: str
    alnb: float
    baseline: float | None
    unit: str
    note: str = ""
    higher_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.alnb or not self.baseline:
            return None
        return self.alnb / self.baseline if self.higher_is_better else self.baseline / self.alnb


def side_by_side(candidates: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each callable; one call of each per round, so all share the machine's load."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    seconds: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_name() -> str:
    """A short file-safe name: CPU model and core count, e.g. ``amd-epyc-2cpu``."""
    model = re.sub(r"\((r|tm)\)|cpu|processor|@.*", "", cpu_model(), flags=re.IGNORECASE)
    words = re.findall(r"[a-z0-9]+", model.lower())[:3]
    return "-".join([*words, f"{os.cpu_count()}cpu"])


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
