"""torch's CPU thread count, set explicitly per job and per greedy loop.

Oversubscribed cores are pathological for small models: a 2-thread step was measured 70× slower than
a 1-thread one on a busy 2-core machine. Jobs therefore set their thread count explicitly.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


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
