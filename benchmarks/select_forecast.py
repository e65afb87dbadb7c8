"""How does ``alnb select``'s label-free forecast (the ranking's objective at B against random orders', in SDs)
relate to what selection gains in class coverage over random orders? Measured on sklearn's digits, the MNIST subset
and the CIFAR-10 subset of ``../shared/data`` (the datasets that are present).

Each dataset's first ``--n`` images are embedded label-free as the first 50 principal components of their pixels
(what a user could pass as ``--embeddings``); every method ranks B images for each budget and seed; the forecast's z
(:func:`alnb.select.forecast.forecast`) is set beside the classes the first B picks cover minus the mean over 20
random orders. Prints the table, the Spearman correlation of z with the gain, and the mean gain when z is at most
and above ``HELPS_ABOVE_Z``.

    python benchmarks/select_forecast.py [--n 3000] [--seeds 3] [--out forecast.csv]
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_select import CIFAR  # noqa: E402

MNIST = CIFAR.parents[1] / "mnist_subset" / "MNIST" / "raw"
METHODS = ("maxherding", "kcenter", "typiclust", "probcover")
BUDGETS = (10, 20, 50)
RANDOM_ORDERS = 20


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float32), data.target


def mnist(n: int) -> tuple[np.ndarray, np.ndarray] | None:
    images, labels = MNIST / "train-images-idx3-ubyte", MNIST / "train-labels-idx1-ubyte"
    if not images.is_file():
        return None
    x = np.frombuffer(images.read_bytes(), np.uint8, offset=16).reshape(-1, 784)[:n]
    return x.astype(np.float32), np.frombuffer(labels.read_bytes(), np.uint8, offset=8)[:n].astype(np.int64)


def cifar(n: int) -> tuple[np.ndarray, np.ndarray] | None:
    if not CIFAR.is_dir():
        return None
    xs, ys = [], []
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        with open(CIFAR / name, "rb") as fh:
            batch = pickle.load(fh, encoding="latin1")
        xs.append(np.asarray(batch["data"], np.float32))
        ys.append(np.asarray(batch["labels"]))
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def pca50(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(50, random_state=0).fit_transform(x - x.mean(0)).astype(np.float32)


def measure(name: str, x: np.ndarray, labels: np.ndarray, seeds: int) -> list[dict]:
    from alnb.core import seeding
    from alnb.select.forecast import forecast
    from alnb.select.ranking import rank

    rows = []
    none = np.zeros(0, np.int64)
    for seed in range(seeds):
        random_orders = [seeding.rng(seed, "bench", "random", r).permutation(len(x)) for r in range(RANDOM_ORDERS)]
        for method in METHODS:
            for budget in BUDGETS:
                ranking = rank(x, budget, method, seeding.rng(seed, "select", method), none)
                z = forecast(x, ranking, none, seed).z
                random_cover = np.mean([len(np.unique(labels[order[:budget]])) for order in random_orders])
                gain = len(np.unique(labels[ranking.order])) - random_cover
                rows.append({"data": name, "method": method, "budget": budget, "seed": seed, "z": z, "gain": gain})
        print(f"  {name}: seed {seed} done", flush=True)
    return rows


def main() -> None:
    from scipy.stats import spearmanr

    from alnb.select.forecast import HELPS_ABOVE_Z

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    datasets = {"digits": digits(), "mnist_subset": mnist(args.n), "cifar10_subset": cifar(args.n)}
    rows = []
    for name, data in datasets.items():
        if data is None:
            print(f"{name}: absent, skipped")
            continue
        x, labels = data
        rows += measure(name, pca50(x), labels, args.seeds)
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    summary = table.groupby(["data", "method", "budget"])[["z", "gain"]].mean().round(2)
    print(summary.to_string())
    rho = spearmanr(table["z"], table["gain"])
    print(f"Spearman(z, gain) over {len(table)} rankings: {rho.statistic:.2f} (p = {rho.pvalue:.2g})")
    for name, part in table.groupby("data"):
        print(f"  {name}: Spearman {spearmanr(part['z'], part['gain']).statistic:.2f}")
    low = table["z"] <= HELPS_ABOVE_Z
    print(
        f"z ≤ {HELPS_ABOVE_Z:g}: {low.sum()} rankings, mean gain {table.loc[low, 'gain'].mean():.2f} classes; "
        f"z > {HELPS_ABOVE_Z:g}: {(~low).sum()}, mean gain {table.loc[~low, 'gain'].mean():.2f}"
    )


if __name__ == "__main__":
    main()
