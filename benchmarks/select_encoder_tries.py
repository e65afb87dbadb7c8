"""Which label-free encoder should ``alnb select`` use by default? Each try's embeddings of the shared CIFAR-10
subset (or the MNIST subset), scored as ``select_cifar_coverage.py`` scores the default: the share of an image's
20 nearest neighbours (cosine) with its class, and how many classes MaxHerding's first 10, 20 and 50 picks cover
(ranked as ``alnb select`` ranks: :func:`alnb.select.ranking.rank`, its seeded stream), per seed and as the mean
over seeds, beside random orders. Wall and CPU seconds of each try are from decoded pixels to embeddings (CPU
seconds count every thread of the process; on a loaded machine wall seconds overstate the idle time).

The images are the decoded arrays ``alnb select`` would read (uint8 ``[N, C, 32, 32]``): CIFAR's first ``--n``
of the five train batches and the test batch in that order (as ``select_cifar_coverage.py``), MNIST's 8,000
``train`` digits resized to 32×32 as the folder decoder does. Tries share their expensive part (the k-means
features of one seed) in memory; their time counts it.

    python benchmarks/select_encoder_tries.py --data cifar --seeds 5 --tries kmeans1600_pca256 simclr_default
    python benchmarks/select_encoder_tries.py --list
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_select import CIFAR, ROOT  # noqa: E402
from select_cifar_coverage import CUTS, coverage, labels_of  # noqa: E402

MNIST = ROOT.parent / "shared" / "data" / "mnist_subset" / "MNIST" / "raw"
THREADS = 2


def cifar_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    import pickle

    images = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(CIFAR / name, "rb") as fh:
            images.append(np.asarray(pickle.load(fh, encoding="latin1")["data"]).reshape(-1, 3, 32, 32))
    return np.concatenate(images)[:n], labels_of(n)


def mnist_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    raw = (MNIST / "train-images-idx3-ubyte").read_bytes()
    digits = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    labels = np.frombuffer((MNIST / "train-labels-idx1-ubyte").read_bytes(), dtype=np.uint8, offset=8)[:n]
    resized = np.stack([np.asarray(Image.fromarray(d).resize((32, 32), Image.BILINEAR)) for d in digits])
    return resized[:, None], labels.astype(np.int64)


def neighbour_share(embeddings: np.ndarray, labels: np.ndarray, k: int = 20) -> float:
    """Share of each image's k nearest neighbours (cosine) that have its class."""
    from sklearn.neighbors import NearestNeighbors

    from alnb.methods.geometry import l2_normalize

    x = l2_normalize(np.asarray(embeddings, dtype=np.float32))
    neighbours = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)[1][:, 1:]
    return float((labels[neighbours] == labels[:, None]).mean())


def maxherding_coverage(embeddings: np.ndarray, labels: np.ndarray, seed: int) -> list[int]:
    from alnb.core import seeding
    from alnb.select.ranking import rank

    ranking = rank(embeddings, max(CUTS), "maxherding", seeding.rng(seed, "select", "maxherding"))
    return coverage(labels[ranking.order])


# ---- the tries ---------------------------------------------------------------------------------------------------
_shared: dict = {}


def _timed_shared(key, build: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """``build()``'s result, computed once per key; returns it with the wall and CPU seconds it took."""
    if key not in _shared:
        wall, cpu = time.perf_counter(), time.process_time()
        result = build()
        _shared[key] = (result, time.perf_counter() - wall, time.process_time() - cpu)
    return _shared[key]


def kmeans_try(n_centroids: int, post: str, n_patches: int = 100_000):
    def run(images: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
        from alnb.select.label_free import kmeans_features, standardize

        raw, wall, cpu = _timed_shared(
            ("kmeans", n_centroids, n_patches, seed),
            lambda: kmeans_features(images, seed, n_centroids=n_centroids, n_patches=n_patches, threads=THREADS),
        )
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        if post == "raw":
            out = raw
        elif post == "std":
            out = standardize(raw)
        elif post == "sqrt_std":
            out = standardize(np.sqrt(raw))
        elif post.startswith("pca"):
            out = pca_whiten(raw, int(post[3:]), seed)
        elif post.startswith("sqrtpca"):
            out = pca_whiten(np.sqrt(raw), int(post[7:]), seed)
        else:
            raise ValueError(post)
        return out, wall + time.perf_counter() - start_wall, cpu + time.process_time() - start_cpu

    return run


def pca_whiten(features: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """``features`` standardised, then their first ``dims`` principal components, each scaled to unit variance."""
    from sklearn.decomposition import PCA

    from alnb.select.label_free import standardize

    return PCA(dims, whiten=True, random_state=seed).fit_transform(standardize(features)).astype(np.float32)


def pixels_try(images: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
    x = images.reshape(len(images), -1).astype(np.float32)
    return x - x.mean(0), 0.0, 0.0


def simclr_default(images: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
    """Today's default: alnb select's SimCLR with its own settings for this folder size."""
    from alnb.methods.pretext import train_pretext
    from alnb.select.embeddings import encoder_settings

    wall, cpu = time.perf_counter(), time.process_time()
    result = train_pretext("simclr", torch.from_numpy(images), seed, **encoder_settings(len(images)))
    return np.asarray(result.embeddings), time.perf_counter() - wall, time.process_time() - cpu


def conv_net(in_channels: int, widths: tuple[int, ...]) -> torch.nn.Module:
    """3×3 conv, BatchNorm, ReLU, 2×2 max-pool per width, then global average pooling: ``widths[-1]`` features."""
    from torch import nn

    layers, previous = [], in_channels
    for width in widths:
        layers += [
            nn.Conv2d(previous, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        previous = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def lightly_try(loss: str, widths: tuple[int, ...], epochs: int, batch_size: int = 256):
    """A self-supervised encoder trained on the folder with lightly's SimCLR augmentation (no blur at 32×32)
    and lightly's loss: ``vicreg`` (Bardes et al., ICLR 2022) or ``ntxent`` (SimCLR, Chen et al., ICML 2020);
    embeddings are the backbone's pooled features of the unaugmented images."""

    def run(images: np.ndarray, seed: int) -> tuple[np.ndarray, float, float]:
        from lightly.loss import NTXentLoss, VICRegLoss
        from lightly.models.modules.heads import SimCLRProjectionHead, VICRegProjectionHead
        from lightly.transforms import SimCLRTransform
        from PIL import Image

        wall, cpu = time.perf_counter(), time.process_time()
        torch.manual_seed(seed)
        channels = images.shape[1]
        scaled = images.astype(np.float32) / 255
        mean, std = scaled.mean(axis=(0, 2, 3)), scaled.std(axis=(0, 2, 3))
        stats = {"mean": list(mean) * (3 // channels), "std": list(std) * (3 // channels)}
        transform = SimCLRTransform(
            input_size=images.shape[-1], gaussian_blur=0.0, cj_strength=0.5, min_scale=0.2, normalize=stats
        )
        pil = [Image.fromarray(image.transpose(1, 2, 0)).convert("RGB") for image in images]
        backbone = conv_net(3, widths)
        if loss == "vicreg":
            head, criterion = VICRegProjectionHead(widths[-1], 512, 512, num_layers=2), VICRegLoss()
        else:
            head, criterion = SimCLRProjectionHead(widths[-1], 512, 128), NTXentLoss(temperature=0.2)
        model = torch.nn.Sequential(backbone, head)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(pil)).tolist()
            for start in range(0, len(order) - batch_size + 1, batch_size):
                views = [transform(pil[i]) for i in order[start : start + batch_size]]
                first, second = (torch.stack([v[k] for v in views]) for k in (0, 1))
                value = criterion(model(first), model(second))
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
        backbone.eval()
        plain = torch.from_numpy((scaled - mean[:, None, None]) / std[:, None, None])
        if channels == 1:
            plain = plain.expand(-1, 3, -1, -1)
        with torch.no_grad():
            out = torch.cat([backbone(plain[i : i + 500]) for i in range(0, len(plain), 500)]).numpy()
        return out, time.perf_counter() - wall, time.process_time() - cpu

    return run


TRIES: dict[str, Callable] = {
    "vicreg_cnn3_15ep": lightly_try("vicreg", (32, 64, 128), 15),
    "ntxent_cnn3_15ep": lightly_try("ntxent", (32, 64, 128), 15),
    "pixels": pixels_try,
    "simclr_default": simclr_default,
    **{
        f"kmeans{k}_{post}": kmeans_try(k, post)
        for k in (256, 400, 800, 1600)
        for post in ("raw", "std", "sqrt_std", "pca64", "pca128", "pca256", "sqrtpca128", "sqrtpca256")
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=["cifar", "mnist"], default="cifar")
    parser.add_argument("--n", type=int, default=None, help="images (default: CIFAR 5,000, MNIST 8,000)")
    parser.add_argument("--tries", nargs="*", default=["kmeans1600_pca256"])
    parser.add_argument("--seeds", type=int, default=5, help="K seeds (each its own encoder and ranking)")
    parser.add_argument("--first-seed", type=int, default=0, help="the seeds are FIRST..FIRST+K-1")
    parser.add_argument("--random-orders", type=int, default=20)
    parser.add_argument("--csv", type=Path, help="append the per-seed rows to this CSV")
    parser.add_argument("--list", action="store_true", help="print the tries' names and stop")
    args = parser.parse_args()
    if args.list:
        print("\n".join(TRIES))
        return
    unknown = [t for t in args.tries if t not in TRIES]
    if unknown:
        sys.exit(f"--tries: unknown {', '.join(unknown)}; valid: {', '.join(TRIES)}")
    torch.set_num_threads(THREADS)
    source = {"cifar": (CIFAR, cifar_images, 5_000), "mnist": (MNIST, mnist_images, 8_000)}[args.data]
    if not source[0].is_dir():
        sys.exit(f"no {args.data} subset at {source[0]}")
    images, labels = source[1](args.n or source[2])
    print(f"{args.data}: {len(images):,} images {tuple(images.shape[1:])}, {len(np.unique(labels))} classes")
    rows = []
    for name in args.tries:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            embeddings, wall, cpu = TRIES[name](images, seed)
            share = neighbour_share(embeddings, labels)
            covered = maxherding_coverage(embeddings, labels, seed)
            rows.append([name, seed, embeddings.shape[1], share, *covered, wall, cpu])
            print(f"  {name} seed {seed}: 20-NN {share:.1%}, classes {covered}, {wall:.0f} s wall, {cpu:.0f} s CPU")
            sys.stdout.flush()
    columns = ["try", "seed", "dims", "20-NN share", *(f"classes in first {c}" for c in CUTS), "wall s", "CPU s"]
    table = pd.DataFrame(rows, columns=columns)
    if args.csv:
        table.assign(data=args.data).to_csv(args.csv, mode="a", header=not args.csv.exists(), index=False)
    summary = table.drop(columns="seed").groupby("try", sort=False).mean().round(3)
    summary.insert(0, "seeds", table.groupby("try", sort=False).size())
    randoms = np.array(
        [coverage(labels[np.random.default_rng(s).permutation(len(labels))]) for s in range(args.random_orders)]
    )
    summary.loc[f"random orders (mean of {args.random_orders})"] = [
        args.random_orders,
        0,
        np.nan,
        *randoms.mean(0),
        np.nan,
        np.nan,
    ]
    summary[["dims", "seeds"]] = summary[["dims", "seeds"]].astype(int)
    print(summary.to_string())


if __name__ == "__main__":
    main()
