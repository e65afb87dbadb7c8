"""Does the default ``alnb select`` give a useful ranking on natural photos? Class coverage of its first picks on
the real CIFAR-10 images of ``../shared/data/cifar10_subset`` against random orders.

Writes the first ``--n`` images as PNGs (labels kept aside, used only to score), runs ``alnb select`` on them
(default encoder and method, or ``--method``), and prints how many of the 10 classes the first 10, 20 and 50
picks cover, beside the mean (and range) over 20 seeded random orders. ``--select-seeds K`` runs the selection
with seeds 0..K-1, each training its own encoder, and adds their mean. Other methods are ranked from the same
cached encoders with ``--also``. Each encoder's quality is printed beside: the share of an image's 20 nearest
neighbours (cosine, in its embeddings) that have its class (chance: about 10%).

    python benchmarks/select_cifar_coverage.py --work /tmp/cifar_select [--select-seeds 5] [--also typiclust kcenter]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_select import CIFAR, ROOT, write_cifar_pngs  # noqa: E402

CUTS = (10, 20, 50)


def labels_of(n: int) -> np.ndarray:
    import pickle

    labels = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(CIFAR / name, "rb") as fh:
            labels.append(np.asarray(pickle.load(fh, encoding="latin1")["labels"]))
    return np.concatenate(labels)[:n]


def coverage(classes: np.ndarray) -> list[int]:
    return [len(np.unique(classes[:cut])) for cut in CUTS]


def neighbour_agreement(cache: Path, seed: int, labels: np.ndarray, k: int = 20) -> float:
    """Share of the k nearest neighbours (cosine) of each image, in the embeddings of the encoder that
    ``alnb select --seed seed`` trained, that have the image's class."""
    import json

    from sklearn.neighbors import NearestNeighbors

    from alnb.methods.geometry import l2_normalize
    from alnb.methods.pretext import load_result

    folders = [
        f
        for f in sorted(cache.glob("simclr_*"))
        if json.loads((f / "meta.json").read_text())["settings"]["seed"] == seed
    ]
    embeddings = l2_normalize(np.asarray(load_result(folders[0]).embeddings, dtype=np.float32))
    neighbours = NearestNeighbors(n_neighbors=k + 1).fit(embeddings).kneighbors(embeddings)[1][:, 1:]
    return float((labels[neighbours] == labels[:, None]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="a folder for the PNGs and the selection")
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--also", nargs="*", default=[], help="further methods, ranked from the cached encoder")
    parser.add_argument("--seeds", type=int, default=20, help="random orders to compare with")
    parser.add_argument(
        "--select-seeds",
        type=int,
        default=1,
        help="alnb select seeds (each trains its own encoder): the ranking's own spread",
    )
    args = parser.parse_args()
    if not CIFAR.is_dir():
        sys.exit(f"no CIFAR-10 subset at {CIFAR}")
    folder, labels = args.work / "cifar", labels_of(args.n)
    if not folder.is_dir():
        write_cifar_pngs(folder, args.n)
    label_of = {f"{i // 1000:02d}/{i:05d}.png": int(y) for i, y in enumerate(labels)}
    rows, agreement = [], {}
    for method in ["maxherding", *args.also]:
        covered = []
        for seed in range(args.select_seeds):  # each seed trains its own encoder, then ranks
            out = args.work / "selection"  # one output folder: every method reads the same cached encoders
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "alnb",
                    "select",
                    str(folder),
                    "--budget",
                    str(max(CUTS)),
                    "--method",
                    method,
                    "--seed",
                    str(seed),
                    "--out",
                    str(out),
                ],
                check=True,
                cwd=ROOT,
            )
            picks = pd.read_csv(out / "selection.csv")["path"]
            covered.append(coverage(np.array([label_of[p] for p in picks])))
            if seed not in agreement:  # one encoder per seed, whichever method ranks from it
                agreement[seed] = neighbour_agreement(out / "cache", seed, labels)
            rows.append([f"{method} (seed {seed})", *covered[-1]])
        if args.select_seeds > 1:
            rows.append([f"{method} (mean of {args.select_seeds} seeds)", *np.mean(covered, axis=0).round(2)])
    randoms = np.array(
        [coverage(labels[np.random.default_rng(seed).permutation(len(labels))]) for seed in range(args.seeds)]
    )
    rows.append([f"random (mean of {args.seeds} seeds)", *randoms.mean(0).round(2)])
    rows.append(["random (min–max)", *[f"{lo}–{hi}" for lo, hi in zip(randoms.min(0), randoms.max(0))]])
    print(pd.DataFrame(rows, columns=["method", *(f"classes in first {c}" for c in CUTS)]).to_string(index=False))
    print(
        "encoder quality, share of an image's 20 nearest neighbours with its class (chance about 10%): "
        + ", ".join(f"seed {seed} {share:.1%}" for seed, share in agreement.items())
    )


if __name__ == "__main__":
    main()
