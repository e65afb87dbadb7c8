"""``make bench``: every benchmark of this folder in one run, printed as one table and written to
``benchmarks/results/<machine>.csv``.

Columns: benchmark, alnb, baseline, ratio (the speed-up of alnb: baseline time / alnb time), unit, note.
Each pair is measured side by side in the same process (alternating rounds, median after a warm-up);
torch runs on one thread on both sides.

    python benchmarks/run_all.py [--only training scoring coreset clustering executor study select]
"""

from __future__ import annotations

import argparse
import csv
import importlib
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import Row, cpu_model, load_average, machine_name  # noqa: E402

MODULES = {
    "training": "bench_training",
    "scoring": "bench_scoring",
    "coreset": "bench_coreset",
    "clustering": "bench_clustering",
    "executor": "bench_executor",
    "first_cycle": "bench_first_cycle",
    "study": "bench_study",
    "select": "bench_select",
}
RESULTS = Path(__file__).resolve().parent / "results"


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def format_table(table: list[Row]) -> str:
    header = ["benchmark", "alnb", "baseline", "ratio", "unit", "note"]
    lines = [
        [r.benchmark, _number(r.alnb), _number(r.baseline), f"{r.ratio:.2f}×" if r.ratio else "", r.unit, r.note]
        for r in table
    ]
    widths = [max(len(x[i]) for x in [header, *lines]) for i in range(5)]
    out = []
    for line in [header, *lines]:
        out.append(
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line[:5], widths)))
            + "  "
            + line[5]
        )
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def write_csv(table: list[Row], path: Path, header_note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        fh.write(f"# {header_note}\n")
        writer = csv.writer(fh)
        writer.writerow(["benchmark", "alnb", "baseline", "ratio", "unit", "note"])
        for r in table:
            writer.writerow(
                [
                    r.benchmark,
                    f"{r.alnb:.6g}",
                    "" if r.baseline is None else f"{r.baseline:.6g}",
                    "" if r.ratio is None else f"{r.ratio:.3f}",
                    r.unit,
                    r.note,
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(MODULES), default=list(MODULES))
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    header = f"{cpu_model()}, {os.cpu_count()} CPUs; {load_average()} at the start"
    print(header, flush=True)
    table: list[Row] = []
    for name in args.only:
        section = time.perf_counter()
        rows = importlib.import_module(MODULES[name]).rows()
        table.extend(rows)
        print(f"  {name}: {len(rows)} rows in {time.perf_counter() - section:.0f} s", flush=True)
    header += f"; {load_average()} at the end; {time.perf_counter() - start:.0f} s in all"
    print(header)
    print(format_table(table))
    path = RESULTS / f"{machine_name()}.csv"
    write_csv(table, path, header)
    print(f"written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
