"""The processes executor over successive grids: its worker processes kept for the next grid, against a fresh
pool spawned for every grid (alnb before the pool was kept). A notebook runs several grids: notebook 04 runs
five, each a few trials long, and every spawned process imports torch and alnb before its first trial.

Each "grid" is 4 calls of a small-CNN training of about 0.2 s, on 2 processes of one thread; 5 grids a round.

    python benchmarks/bench_executor.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Row, side_by_side  # noqa: E402

GRIDS, CALLS = 5, 4


def train_briefly(seed: int) -> None:
    """A trial-sized job: what a trial job imports, then 30 steps of the small CNN on random 8×8 images."""
    import torch

    import alnb.run.grid  # noqa: F401  (a trial job's imports)
    from alnb.models.networks import SmallCNN

    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(SmallCNN(1, 8), torch.nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(30):
        x, y = torch.randn(64, 1, 8, 8, generator=generator), torch.randint(0, 10, (64,), generator=generator)
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def rows() -> list[Row]:
    from alnb.run.executors import Resources, run_jobs, shut_down_worker_pool

    resources = Resources("processes", n_jobs=2, threads=1)

    def grids(fresh_pool_each: bool) -> None:
        for grid in range(GRIDS):
            if fresh_pool_each:
                shut_down_worker_pool()
            failures = run_jobs(train_briefly, [(grid * CALLS + i,) for i in range(CALLS)], resources, progress=False)
            assert not failures, failures

    try:
        seconds = side_by_side({"kept": lambda: grids(False), "fresh": lambda: grids(True)}, repeats=3)
    finally:
        shut_down_worker_pool()
    note = f"{GRIDS} grids of {CALLS} trial-sized calls on 2 processes; baseline: a pool spawned per grid"
    return [Row("executor: processes kept across grids", seconds["kept"], seconds["fresh"], "s", note)]


if __name__ == "__main__":
    for row in rows():
        print(row)
