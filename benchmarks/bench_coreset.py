"""Time greedy k-center (Coreset's selection rule) against the per-pick ``torch.cdist`` loop of older toolkits.

Both start from the same labeled centres and pick the same budget; the script checks that they pick the
same points in the same order and prints ``ratio: <cdist time / k_center_greedy time>``.

    python benchmarks/bench_coreset.py                      # N=50,000, d=512, budget 5,000 (minutes)
    python benchmarks/bench_coreset.py --n 5000 --budget 500  # quick check

On a busy machine pass ``--threads 1``: OpenMP's waiting threads slow the cdist loop down many times over.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from alnb.methods.k_center_greedy import k_center_greedy


def make_features(kind: str, n: int, dim: int, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """``gaussian``: i.i.d. N(0, 1); ``clustered``: N(0, 1) noise around N(0, 3²) cluster means."""
    noise = rng.standard_normal((n, dim), dtype=np.float32)
    if kind == "gaussian":
        return noise
    means = 3.0 * rng.standard_normal((n_clusters, dim), dtype=np.float32)
    return means[rng.integers(n_clusters, size=n)] + noise


def cdist_k_center(features: np.ndarray, labeled: np.ndarray, budget: int, dtype: torch.dtype) -> np.ndarray:
    """The plain greedy loop: after every pick, ``torch.cdist`` from the new centre to all points."""
    x = torch.as_tensor(features).to(dtype)
    nearest = torch.cdist(x, x[torch.as_tensor(labeled)]).min(dim=1).values
    nearest[torch.as_tensor(labeled)] = -1.0
    picks = []
    for _ in range(budget):
        best = int(torch.argmax(nearest))
        picks.append(best)
        nearest = torch.minimum(nearest, torch.cdist(x, x[best : best + 1]).squeeze(1))
        nearest[best] = -1.0
    return np.asarray(picks)


def rows(
    n: int = 50_000, dim: int = 512, labeled_size: int = 1_000, budget: int = 5_000, timed_picks: int = 20
) -> list:
    """The table row: k_center_greedy (median of 3 after a warm-up) against the per-pick cdist loop, timed
    on ``timed_picks // 2`` and ``timed_picks`` picks: its setup plus the per-pick cost scaled to the budget
    (every pick after the first costs the same)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from timing import Row, side_by_side

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    features = make_features("gaussian", n, dim, 0, rng)
    labeled = rng.choice(n, size=labeled_size, replace=False)
    ours = k_center_greedy(features, labeled, budget)
    half = timed_picks // 2
    reference = {}
    seconds = side_by_side(
        {
            "alnb": lambda: k_center_greedy(features, labeled, budget),
            "half": lambda: cdist_k_center(features, labeled, half, torch.float64),
            "full": lambda: reference.update(picks=cdist_k_center(features, labeled, timed_picks, torch.float64)),
        },
        repeats=3,
        warmup=0,
    )
    per_pick = (seconds["full"] - seconds["half"]) / (timed_picks - half)
    baseline = seconds["half"] + per_pick * (budget - half)
    same = np.array_equal(reference["picks"], ours[:timed_picks])
    return [
        Row(
            f"selection: k-center greedy {n // 1000}k×{dim}, budget {budget:,}",
            seconds["alnb"],
            baseline,
            "s",
            f"baseline: per-pick torch.cdist, timed on {timed_picks} picks and scaled; same first picks: {same}; "
            f"median of 3",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000, help="number of points (default 50,000)")
    parser.add_argument("--dim", type=int, default=512, help="feature dimension (default 512)")
    parser.add_argument("--budget", type=int, default=5_000, help="centres to pick (default 5,000)")
    parser.add_argument("--labeled", type=int, default=1_000, help="initial labeled centres (default 1,000)")
    parser.add_argument("--features", choices=("gaussian", "clustered"), default="gaussian")
    parser.add_argument("--clusters", type=int, default=100, help="clusters for --features clustered")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="arithmetic of both; in float32, rounding decides near-ties differently in each",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads for the cdist loop (k_center_greedy always runs on one)",
    )
    args = parser.parse_args()
    dtype = getattr(torch, args.dtype)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    features = make_features(args.features, args.n, args.dim, args.clusters, rng)
    labeled = rng.choice(args.n, size=args.labeled, replace=False)
    print(
        f"features: {args.features}, N={args.n}, d={args.dim}, labeled={args.labeled}, budget={args.budget}, "
        f"{args.dtype}, torch threads for cdist={torch.get_num_threads()}"
    )

    start = time.perf_counter()
    ours = k_center_greedy(features, labeled, args.budget, dtype=dtype)
    ours_s = time.perf_counter() - start
    print(f"k_center_greedy: {ours_s:.2f} s", flush=True)

    start = time.perf_counter()
    reference = cdist_k_center(features, labeled, args.budget, dtype)
    cdist_s = time.perf_counter() - start
    print(f"per-pick torch.cdist: {cdist_s:.2f} s")

    same = np.array_equal(ours, reference)
    first_difference = "" if same else f" (first difference at pick {int(np.argmax(ours != reference))})"
    print(f"same picks in the same order: {same}{first_difference}")
    print(f"ratio: {cdist_s / ours_s:.1f}")


if __name__ == "__main__":
    main()
