"""Thread setting for CPU loops of many small torch operations."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run on one CPU thread (the setting is restored afterwards).

    Greedy selection loops run many small operations one after another: they gain nothing from
    threads, and on a busy machine OpenMP's waiting threads make them tens of times slower.
    """
    if device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
