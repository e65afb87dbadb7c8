"""Time and peak memory of every clustering and coverage initial pool on 50,000 × 512 clustered Gaussian features.

Each pool runs in a fresh subprocess that loads the features from a .npy file, resets the kernel's
peak-RSS mark (``/proc/self/clear_refs``) and reads the resident size before the call and the peak
(``VmHWM``) after it: the difference is the pool's peak memory above what the process already held
(features, libraries). Where ``/proc`` is missing, ``ru_maxrss`` is used (it cannot be reset, so an
earlier peak during the imports may hide the pool's). DeepCluster is not
benchmarked here: it is a training method (see alnb/methods/pretext/deepcluster.py), and its pools only
allocate over an assignment that is already computed, which is the cost of ``kmeans_*`` minus k-means.

Usage: python benchmarks/bench_clustering.py [--n 50000] [--dim 512] [--blobs 10] [--budget 2500]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's alnb, not an installed one

POOLS = ("kmeans_equal", "kmeans_prop", "kmeans_equal_nearest", "typiclust", "probcover", "maxherding")


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _resident_kib(reset_peak: bool) -> int:
    """The resident set now; with ``reset_peak`` the peak mark is first reset to it (Linux)."""
    if reset_peak:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
    now = _status_kib("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_kib() -> int:
    peak = _status_kib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_pool(pool: str, features_path: str, budget: int, n_classes: int) -> dict:
    """Run one pool in this (fresh) process and measure it."""
    import numpy as np

    from alnb.methods.geometry import l2_normalize
    from alnb.methods.kernel_herding import kernel_herding
    from alnb.methods.pools.clustering import cluster_pool, equal_allocation, kmeans_clusters, proportional_allocation
    from alnb.methods.pools.neighbors import radius_graph
    from alnb.methods.pools.probcover import max_coverage, probcover_delta
    from alnb.methods.pools.typiclust import typiclust

    features = np.load(features_path)
    assert Path(sys.modules["alnb"].__file__).resolve().parents[1] == Path(__file__).resolve().parents[1]
    rng = np.random.default_rng(0)
    baseline_kib = _resident_kib(reset_peak=True)
    extra = {}
    start = time.perf_counter()
    if pool.startswith("kmeans"):
        labels, centers = kmeans_clusters(features, n_classes, rng)
        allocate = proportional_allocation if pool == "kmeans_prop" else equal_allocation
        counts = allocate(np.bincount(labels, minlength=n_classes), budget)
        within = "nearest" if pool.endswith("nearest") else "random"
        positions = cluster_pool(labels, counts, rng, features=features, centers=centers, within=within)
    elif pool == "typiclust":
        positions = typiclust(features, budget, rng)
    elif pool == "maxherding":  # default h and candidate subsample (see alnb/methods/kernel_herding.py)
        positions = kernel_herding(features, budget, rng)
    else:  # the three steps of alnb.methods.pools.probcover.probcover, timed apart
        normalized = l2_normalize(features)
        delta = probcover_delta(normalized, n_classes, rng, normalize=False)
        after_delta = time.perf_counter()
        graph = radius_graph(normalized, delta)
        after_graph = time.perf_counter()
        positions = max_coverage(graph, budget, rng)
        extra = {
            "delta": round(delta, 4),
            "edges": graph.n_edges,
            "delta_s": round(after_delta - start, 1),
            "graph_s": round(after_graph - after_delta, 1),
            "greedy_s": round(time.perf_counter() - after_graph, 1),
        }
    seconds = time.perf_counter() - start
    peak_kib = _peak_kib()
    assert len(np.unique(positions)) == budget
    return {
        "pool": pool,
        "seconds": round(seconds, 1),
        "peak_mib": round((peak_kib - baseline_kib) / 1024, 1),
        "process_mib": round(peak_kib / 1024, 1),
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--blobs", type=int, default=10)
    parser.add_argument("--budget", type=int, default=2_500)
    parser.add_argument("--pools", nargs="*", default=list(POOLS))
    parser.add_argument("--child", nargs=2, metavar=("POOL", "FEATURES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_pool(args.child[0], args.child[1], args.budget, args.blobs)))
        return

    print(
        f"{args.n} x {args.dim} float32 features, {args.blobs} Gaussian blobs (make_blobs, std 1), "
        f"budget {args.budget}, K = {args.blobs}; cpus {os.cpu_count()}, load average {os.getloadavg()}"
    )
    print(
        "peak_mib: peak RSS during the call − RSS before it, in a fresh process holding the features "
        f"({args.n * args.dim * 4 / 2**20:.0f} MiB); process_mib: the process's peak RSS"
    )
    for result in measure(args.pools, args.n, args.dim, args.blobs, args.budget):
        print(json.dumps(result), flush=True)


def measure(pools, n: int, dim: int, blobs: int, budget: int):
    """Yield each pool's measurement (or ``{"pool", "error"}``), each in a fresh process."""
    import numpy as np
    from sklearn.datasets import make_blobs

    features, _ = make_blobs(n_samples=n, n_features=dim, centers=blobs, cluster_std=1.0, random_state=0)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "features.npy")
        np.save(path, features.astype(np.float32))
        del features
        for pool in pools:
            command = [sys.executable, __file__, "--budget", str(budget), "--blobs", str(blobs), "--child", pool, path]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                yield {"pool": pool, "error": done.stderr.strip().splitlines()[-1:]}
                continue
            yield json.loads(done.stdout.strip().splitlines()[-1])


def rows(n: int = 50_000, dim: int = 512, blobs: int = 10, budget: int = 2_500) -> list:
    """Table rows: one timed run per pool (kmeans_prop and kmeans_equal_nearest cost what kmeans_equal does)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from timing import Row

    dense_gib = n * n * 4 / 2**30
    table = []
    for result in measure(
        [p for p in POOLS if p not in ("kmeans_prop", "kmeans_equal_nearest")], n, dim, blobs, budget
    ):
        name = f"selection: {result['pool']} {n // 1000}k×{dim}, budget {budget:,}"
        if "error" in result:
            table.append(Row(name, float("nan"), None, "s", f"failed: {result['error']}"))
            continue
        steps = "; ".join(f"{k} {v}" for k, v in result.items() if k.endswith("_s"))
        table.append(
            Row(
                name,
                result["seconds"],
                None,
                "s",
                f"one run in a fresh process; peak {result['peak_mib']:.0f} MiB above the features "
                f"(a dense N×N distance matrix: {dense_gib:.1f} GiB)" + (f"; {steps}" if steps else ""),
            )
        )
    return table


if __name__ == "__main__":
    main()
