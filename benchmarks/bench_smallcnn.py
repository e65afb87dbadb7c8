"""Accuracy and training time of ``smallcnn`` against a plain LeNet-style reference at 28×28, offline.

The data: scikit-learn's 8×8 digits upsampled (bilinear) to 28×28, the MNIST size. Both networks get the
same labeled set (``--labels`` random images), the same validation set and the same test set, and the same
recipe: Adam lr 5e-4, batch 64, early stopping on validation accuracy (patience 10), at most 100 epochs,
dropout 0.3 before the head. The reference is two 5×5 conv + 2×2 pool blocks and a 128-unit dense layer
(LeNet-5, LeCun et al. 1998, with ReLU and max-pool). Prints one row per network and per seed, then the
means; time is the wall-clock time of the whole training.

    python benchmarks/bench_smallcnn.py                  # 450 labels, 3 seeds (about a minute)
    python benchmarks/bench_smallcnn.py --seeds 1 --labels 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

from alnb.models.networks import Classifier, build_classifier


class LeNetBackbone(nn.Module):
    """Two 5×5 conv (32, 64 channels) + 2×2 max-pool blocks and a 128-unit dense layer (for 28×28 inputs)."""

    feature_dim = 128

    def __init__(self, in_channels: int):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, self.feature_dim),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def digits_28() -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 digits as normalised ``[N, 1, 28, 28]`` float tensors and their labels."""
    bunch = load_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32)[:, None] / 16.0
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    return (x - x.mean()) / x.std(), torch.as_tensor(bunch.target)


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    labeled: np.ndarray,
    val: np.ndarray,
    seed: int,
    max_epochs: int = 100,
    patience: int = 10,
) -> tuple[nn.Module, int]:
    """Adam 5e-4, batch 64, keep the weights of the best validation epoch; returns (model, epochs run)."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    best, best_state, since, epoch = -1.0, None, 0, 0
    for epoch in range(1, max_epochs + 1):  # noqa: B007 (the last epoch run is returned)
        model.train()
        order = torch.as_tensor(labeled)[torch.randperm(len(labeled), generator=generator)]
        for batch in order.split(64):
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        acc = evaluate(model, x, y, val)
        if acc > best:
            best, best_state, since = acc, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            since += 1
            if since >= patience:
                break
    model.load_state_dict(best_state)
    return model, epoch


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, indices: np.ndarray) -> float:
    model.eval()
    return float((model(x[indices]).argmax(1) == y[indices]).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=450)
    parser.add_argument("--val", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = digits_28()
    n_test = 500
    networks = {
        "smallcnn": lambda s: build_classifier("smallcnn", 1, 28, 10, dropout=0.3, seed=s),
        "lenet": lambda s: (torch.manual_seed(s), Classifier(LeNetBackbone(1), 10, dropout=0.3))[1],
    }
    results = {name: [] for name in networks}
    print(f"digits upsampled to 28x28: {args.labels} labels, {args.val} validation, {n_test} test images")
    print(f"{'network':<10} {'seed':>4} {'params':>8} {'epochs':>6} {'test acc':>8} {'time (s)':>8}")
    for seed in range(args.seeds):
        order = np.random.default_rng(seed).permutation(len(y))
        test, val, labeled = (
            order[:n_test],
            order[n_test : n_test + args.val],
            order[n_test + args.val :][: args.labels],
        )
        for name, build in networks.items():
            model = build(seed)
            start = time.perf_counter()
            model, epochs = train(model, x, y, labeled, val, seed)
            seconds = time.perf_counter() - start
            acc = evaluate(model, x, y, test)
            results[name].append((acc, seconds))
            n_params = sum(p.numel() for p in model.parameters())
            print(f"{name:<10} {seed:>4} {n_params:>8} {epochs:>6} {acc:>8.3f} {seconds:>8.1f}")
    print("mean:")
    for name, rows in results.items():
        acc, seconds = np.mean(rows, axis=0)
        print(f"{name:<10} test acc {acc:.3f}  time {seconds:.1f} s")
    ratio = np.mean([r[1] for r in results["smallcnn"]]) / np.mean([r[1] for r in results["lenet"]])
    print(f"ratio: {ratio:.2f} (smallcnn time / lenet time)")


if __name__ == "__main__":
    main()
