"""torch's CPU thread count, set explicitly per job and per greedy loop.

Oversubscribed cores are pathological for small models: a 2-thread step was measured 70× slower than
a 1-thread one on a busy 2-core machine. Jobs therefore set their thread count explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask (a container's cpuset, a pinned test worker), which
    can be fewer than the machine's ``os.cpu_count()``."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # macOS and Windows have no affinity call


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads, then restore the previous number."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """One CPU thread for greedy selection loops of many small operations (no change on a GPU).

    They gain nothing from threads, and on a busy machine OpenMP's waiting threads make them tens of
    times slower.
    """
    if device.type != "cpu":
        yield
        return
    with torch_threads(1):
        yield
