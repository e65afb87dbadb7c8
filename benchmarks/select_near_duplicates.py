"""Where should ``alnb select`` draw the near-duplicate line? Cosine similarities of the default encoder's embeddings
between CIFAR-10 images of ``../shared/data/cifar10_subset`` and their re-encoded, slightly resized copies, against
those between distinct images.

Writes the first ``--n`` images as PNGs and, for ``--copies`` of them, a copy resized to 30×30 or 36×36 and saved
as JPEG (quality 90); ranks the folder with ``--keep-duplicates`` and the default encoder trained on it (on
``--views`` image-views in all; the default encoder's own is 50,000), and prints quantiles of (a) each copy's cosine similarity to its original, (b) each distinct image's largest cosine
similarity to another distinct image, and the share of each at or above a few thresholds.

    python benchmarks/select_near_duplicates.py --work /tmp/near_duplicates [--n 2000 --copies 200 --views 50000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_select import CIFAR, write_cifar_pngs  # noqa: E402

THRESHOLDS = (0.95, 0.97, 0.98, 0.99, 0.992, 0.994, 0.995)


def write_copies(folder: Path, n: int, copies: int, seed: int = 0) -> list[tuple[str, str]]:
    """Re-encoded, slightly resized copies of ``copies`` of the ``n`` images; returns (original, copy) paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    pairs = []
    for i in rng.choice(n, copies, replace=False):
        original = f"{i // 1000:02d}/{i:05d}.png"
        side = int(rng.choice([30, 36]))
        with Image.open(folder / original) as image:
            image.convert("RGB").resize((side, side), Image.BICUBIC).save(folder / f"copy_{i:05d}.jpg", quality=90)
        pairs.append((original, f"copy_{i:05d}.jpg"))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--views", type=int, default=50_000)
    args = parser.parse_args()
    if not CIFAR.is_dir():
        sys.exit(f"needs {CIFAR}")
    folder, out = args.work / "images", args.work / "out"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        write_cifar_pngs(folder, args.n)
        write_copies(folder, args.n, args.copies)
    pairs = [(f"{int(p.stem[5:]) // 1000:02d}/{p.stem[5:]}.png", p.name) for p in sorted(folder.glob("copy_*.jpg"))]
    from alnb.methods.geometry import l2_normalize
    from alnb.select import SelectRequest, embeddings, run_selection

    embeddings.TRAINING_VIEWS = args.views
    selection = run_selection(SelectRequest(str(folder), 10, out=str(out), keep_duplicates=True))
    x = l2_normalize(selection.features)
    row = {path: i for i, path in enumerate(selection.paths)}
    copy_cos = np.array([x[row[a]] @ x[row[b]] for a, b in pairs])
    distinct = np.array([row[p] for p in selection.paths if not p.startswith("copy_")])
    sims = x[distinct] @ x[distinct].T
    np.fill_diagonal(sims, -1.0)
    nearest = sims.max(1)
    quantiles = (0.01, 0.05, 0.5, 0.95, 0.99)
    settings = selection.manifest["embeddings"]["settings"]
    print(f"{len(pairs)} copies, {len(distinct)} distinct images; SimCLR trained on the folder: {settings}")
    print("copy ↔ original cosine, quantiles", dict(zip(quantiles, np.round(np.quantile(copy_cos, quantiles), 4))))
    print("distinct ↔ nearest distinct cosine", dict(zip(quantiles, np.round(np.quantile(nearest, quantiles), 4))))
    for threshold in THRESHOLDS:
        print(
            f"cosine ≥ {threshold}: copies caught {np.sum(copy_cos >= threshold)} of {len(copy_cos)}, distinct images "
            f"with a distinct neighbour that high {np.sum(nearest >= threshold)} of {len(nearest)}"
        )


if __name__ == "__main__":
    main()
