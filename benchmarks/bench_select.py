"""``alnb select`` at scale: the two limits of the issue, each as a table row.

1. **Vectors**: B = 1,000 picked by the default method (MaxHerding, candidates stratified by k-means) from
   1,000,000 × 128 vectors and from 1,000,000 × 768 (CLIP-sized), with the objective of every prefix over all N,
   the report's k-means clusters and its 2-D map; peak memory measured in a child process (limits: 8 GiB, and
   10 minutes at 128 and 5 minutes at 768). No naive pipeline fits at this size (a dense N×N kernel
   would take 4 TB), so a second row puts alnb beside the naive dense-kernel herding (the whole N×N kernel in
   memory, every gain recomputed from it at every pick) at N = 20,000 × 128, where that kernel (1.6 GB) fits;
   both use all 20,000 points as candidates there, the naive one is timed on 10 picks and scaled to 1,000.
2. **Folder**: ``alnb select FOLDER --budget 100`` on 5,000 images of 32×32 from a cold cache, decoding
   through the SimCLR encoder to the rendered report (limit: 10 minutes). The images are the real CIFAR-10 ones
   of ``../shared/data/cifar10_subset`` written out as PNGs when that folder exists, else generated ones (the
   note says which).

    python benchmarks/bench_select.py [--n 1000000] [--dims 128 768] [--skip-folder]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CIFAR = ROOT.parent / "shared" / "data" / "cifar10_subset" / "cifar-10-batches-py"

_VECTORS_CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
torch.set_num_threads(int(sys.argv[4]))
from alnb.core import seeding
from alnb.methods.geometry import l2_normalize
from alnb.methods.pools.clustering import kmeans_clusters
from alnb.select.pipeline import _map_2d
from alnb.select.ranking import rank
n, d, budget = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def phase(name, since):
    print(f"{name}: {time.perf_counter() - since:.0f} s wall, {cpu():.0f} s CPU so far", file=sys.stderr, flush=True)
rng = np.random.default_rng(0)
means = 3.0 * rng.standard_normal((100, d), dtype=np.float32)
x = np.empty((n, d), dtype=np.float32)
for lo in range(0, n, 100_000):  # in chunks: no second N×d temporary
    rows = min(n, lo + 100_000) - lo
    x[lo : lo + rows] = means[rng.integers(100, size=rows)] + rng.standard_normal((rows, d), dtype=np.float32)
start, cpu_start = time.perf_counter(), cpu()
ranking = rank(x, budget, "maxherding", seeding.rng(0, "select", "maxherding"))
ranked = time.perf_counter()
phase("ranking", start)
clusters, _ = kmeans_clusters(l2_normalize(x), 10, seeding.rng(0, "select", "clusters"))
phase("clusters", start)
coords = _map_2d(x, 0)
done = time.perf_counter()
print(json.dumps({"seconds": done - start, "rank_seconds": ranked - start, "coverage": float(ranking.values[-1]),
                  "cpu_seconds": cpu() - cpu_start, "candidates": ranking.options["herding_candidates"],
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20}))
"""


def _child(code: str, *args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def naive_dense_herding(x: np.ndarray, budget: int, bandwidth: float = 1.0) -> np.ndarray:
    """The naive pipeline: the whole N×N RBF kernel in memory, every candidate's gain recomputed from it at every
    pick."""
    import torch

    t = torch.as_tensor(x / np.linalg.norm(x, axis=1, keepdims=True))
    kernel = torch.cdist(t, t).square_().mul_(-1.0 / bandwidth**2).exp_()
    coverage = torch.zeros(len(t))
    picks = []
    for _ in range(budget):
        gains = (kernel - coverage).clamp_(min=0.0).sum(1)
        if picks:
            gains[torch.as_tensor(picks)] = -1.0
        best = int(torch.argmax(gains))
        picks.append(best)
        coverage = torch.maximum(coverage, kernel[best])
    return np.asarray(picks)


def vector_rows(
    n: int = 1_000_000,
    dims: tuple[int, ...] = (128, 768),
    budget: int = 1_000,
    threads: int = 2,
    naive_n: int = 20_000,
    naive_picks: int = 10,
) -> list:
    import torch
    from timing import Row

    from alnb.methods.kernel_herding import kernel_herding

    rows = []
    for dim in dims:
        big = _child(_VECTORS_CHILD, n, dim, budget, threads)
        rows.append(
            Row(
                f"select: maxherding {n:,}×{dim}, B={budget:,} (+ objective, clusters, map)",
                big["seconds"],
                None,
                "s",
                f"peak {big['peak_gib']:.2f} GiB (limit 8); CPU {big['cpu_seconds']:.0f} s; ranking "
                f"{big['rank_seconds']:.0f} s, candidates: "
                f"{big['candidates']}; objective over all {n:,}; {threads} threads; "
                f"no dense pipeline fits here (N×N kernel: {n * n * 4 / 1e12:.0f} TB)",
            )
        )
    dim = dims[0]
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    means = 3.0 * rng.standard_normal((100, dim), dtype=np.float32)
    x = means[rng.integers(100, size=naive_n)] + rng.standard_normal((naive_n, dim), dtype=np.float32)
    start = time.perf_counter()
    ours = kernel_herding(x, budget, np.random.default_rng(0), max_candidates=naive_n)
    alnb_seconds = time.perf_counter() - start
    timings = []
    for picks in (1, naive_picks):
        start = time.perf_counter()
        reference = naive_dense_herding(x, picks)
        timings.append(time.perf_counter() - start)
    per_pick = (timings[1] - timings[0]) / (naive_picks - 1)
    naive_seconds = timings[0] + per_pick * (budget - 1)
    same = np.array_equal(reference, ours[:naive_picks])
    rows.append(
        Row(
            f"select: maxherding {naive_n:,}×{dim}, B={budget:,}, all points candidates",
            alnb_seconds,
            naive_seconds,
            "s",
            f"baseline: dense {naive_n:,}² kernel ({naive_n**2 * 4 / 2**30:.1f} GiB) "
            f"with every gain recomputed per pick, timed on {naive_picks} picks and scaled; same first "
            f"picks: {same}; {threads} threads",
        )
    )
    return rows


def write_cifar_pngs(folder: Path, n: int) -> str:
    """``n`` CIFAR-10 images of the shared subset as PNGs in ``folder`` (nested by thousands); returns a note."""
    import pickle

    from PIL import Image

    images = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(CIFAR / name, "rb") as fh:
            images.append(np.asarray(pickle.load(fh, encoding="latin1")["data"]).reshape(-1, 3, 32, 32))
    images = np.concatenate(images)[:n]
    for i, image in enumerate(images):
        (folder / f"{i // 1000:02d}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.transpose(1, 2, 0)).save(folder / f"{i // 1000:02d}/{i:05d}.png")
    return f"{len(images):,} real CIFAR-10 images of the shared subset"


def write_generated_pngs(folder: Path, n: int) -> str:
    """``n`` generated 32×32 images (10 colour-and-texture groups with noise) as PNGs."""
    from PIL import Image

    rng = np.random.default_rng(0)
    bases = rng.integers(0, 256, (10, 32, 32, 3))
    for i in range(n):
        (folder / f"{i // 1000:02d}").mkdir(parents=True, exist_ok=True)
        image = np.clip(bases[i % 10] + rng.integers(-40, 40, (32, 32, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"{i // 1000:02d}/{i:05d}.png")
    return f"{n:,} generated images (../shared/data/cifar10_subset is absent)"


def folder_row(n: int = 5_000, budget: int = 100) -> list:
    from timing import Row

    with tempfile.TemporaryDirectory(prefix="alnb-bench-select-") as tmp:
        folder = Path(tmp) / "images"
        note = write_cifar_pngs(folder, n) if CIFAR.is_dir() else write_generated_pngs(folder, n)
        if not CIFAR.is_dir():
            print(f"  select: {note}; the folder row uses them", flush=True)
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "alnb",
                "select",
                str(folder),
                "--budget",
                str(budget),
                "--out",
                str(Path(tmp) / "out"),
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        seconds = time.perf_counter() - start
        written = (Path(tmp) / "out" / "selection.html").is_file()
    return [
        Row(
            f"select: folder of {n:,} 32×32 PNGs → report, B={budget}",
            seconds,
            None,
            "s",
            f"cold cache: decoding, SimCLR training, ranking, notebook and HTML (limit 600 s); {note}; "
            f"report written: {written}",
        )
    ]


def rows() -> list:
    return [*vector_rows(), *folder_row()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 768])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-folder", action="store_true")
    parser.add_argument("--skip-vectors", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from timing import load_average

    print(load_average(), flush=True)
    table = [] if args.skip_vectors else vector_rows(args.n, tuple(args.dims), threads=args.threads)
    table += [] if args.skip_folder else folder_row()
    for row in table:
        print(
            f"{row.benchmark}: {row.alnb:.1f} {row.unit}"
            + (f" (baseline {row.baseline:.1f}, ratio {row.ratio:.1f}×)" if row.baseline else "")
            + f"; {row.note}"
        )
    print(load_average())


if __name__ == "__main__":
    main()
