"""Cycle 0 trained once for the trials that differ only in their query method (``Grid.run_group``), against each
trial training its own (alnb before cycle 0 was shared). The default study's main grid runs two query methods
from every initial pool and seed, so one of its ten trainings per pool and seed is saved.

One round: the trials of one initial pool (random) and seed with the default study's queries (random, entropy),
its training settings and cycles, serially on one thread, each round in a new run directory.

    python benchmarks/bench_first_cycle.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import ROOT, Row, side_by_side  # noqa: E402


def _grid(run_dir: str):
    from alnb.core.config import read_params
    from alnb.run.study import Study
    from alnb.run.validation import params_from_dict

    raw, root = read_params(ROOT / "params" / "default.yaml")
    raw["run_dir"] = run_dir
    raw["al"] = {**raw["al"], "seeds": [0], "inits": ["random"]}
    raw["executor"] = {"kind": "serial", "threads": 1}
    raw["pools"] = {}
    return Study(params_from_dict(raw, root)).grid


def rows() -> list[Row]:
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        rounds = iter(range(1000))

        def shared() -> None:
            grid = _grid(f"{folder}/{next(rounds)}")
            grid.run_group(grid.keys())

        def alone() -> None:
            grid = _grid(f"{folder}/{next(rounds)}")
            for key in grid.keys():
                grid.run_one(key)

        seconds = side_by_side({"shared": shared, "alone": alone}, repeats=3)
    note = "the trials of one pool and seed, queries random + entropy, 4 cycles, digits; baseline: cycle 0 per trial"
    return [Row("trials: cycle 0 shared across queries", seconds["shared"], seconds["alone"], "s", note)]


if __name__ == "__main__":
    for row in rows():
        print(row)
