"""The CUDA path, measured: ResNet18 epoch, one AL cycle at CIFAR-10 scale, pretext throughput.

On a CUDA machine this times, on CIFAR-shaped random images held on the GPU (speed does not depend on
the pixels):

* one ResNet18 training epoch over 50,000 images 32×32×3 (batch 512, bf16 autocast, channels_last);
  target ≤ 2 s on an H100-class GPU;
* one AL cycle at CIFAR-10 scale with ``params/cifar10.yaml``'s training settings (fp32 and bf16):
  train a fresh ResNet18 on 5,000 images to early stopping on a 5,000-image validation set, then score
  the other 45,000 (probabilities and embeddings in one pass);
* rotation pretext training throughput (images/s over one epoch of 50,000 images);

and writes ``benchmarks/results/<gpu>.csv``. Without a GPU it says so and exits 0. The functions take the
device and the dataset, so that ``tests/test_gpu_check.py`` runs each of them on a few CPU images: a GPU lent
for minutes is not spent on a crash.

    python benchmarks/gpu_check.py [--max-epochs N]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from timing import ROOT, Row  # noqa: E402

N_IMAGES = 50_000


def _synchronized(fn, device: torch.device):
    """Seconds of ``fn()`` and its result, the device's queued work included."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - start, out


def resnet_epoch(dataset, device: torch.device, repeats: int = 3) -> Row:
    from alnb.models.training import ImageTensors, fresh_classifier, make_optimizer, train_epoch
    from alnb.run.validation import params_from_dict

    params = params_from_dict(
        {"model": {"arch": "resnet18"}, "training": {"batch_size": 512, "precision": "bf16", "lr": 1e-3}}
    )
    data = ImageTensors(dataset, device)
    model = fresh_classifier(data, params, 10, seed=0)
    optimizer = make_optimizer(model, params.training)
    generator = torch.Generator(device=device).manual_seed(0)

    n = dataset.n_train

    def epoch():
        order = torch.randperm(n, generator=generator, device=device)
        return float(train_epoch(model, optimizer, data, order, 512, True, generator, "bf16"))

    epoch()  # warm-up: cuDNN algorithm choice, allocator
    seconds = sorted(_synchronized(epoch, device)[0] for _ in range(repeats))[repeats // 2]
    return Row(
        f"gpu: ResNet18 epoch, {n:,} × 32×32×3",
        seconds,
        None,
        "s",
        f"batch 512, bf16, channels_last; median of {repeats} after a warm-up; target ≤ 2 s on H100-class "
        f"for 50,000 ({n / seconds:,.0f} images/s)",
    )


def al_cycle(dataset, device: torch.device, precision: str, max_epochs: int | None) -> Row:
    import yaml

    from alnb.models.training import ImageTensors, TrainedModels, scoring_batch_size, train_classifier
    from alnb.run.validation import params_from_dict

    order = np.random.default_rng(0).permutation(dataset.n_train)
    tenth = dataset.n_train // 10  # of 50,000: 5,000 labeled, 5,000 for validation, 45,000 to score
    training = yaml.safe_load((ROOT / "params" / "cifar10.yaml").read_text())["training"]  # not its data
    # an epoch is one pass over the labeled set, as at CIFAR scale (5,000 labeled is above the repetition floor)
    training.update(
        precision=precision, min_samples_per_epoch=tenth, **({"max_epochs": max_epochs} if max_epochs else {})
    )
    params = params_from_dict({"model": {"arch": "resnet18"}, "training": training})
    data = ImageTensors(dataset, device)
    labeled, val, pool = order[:tenth], order[tenth : 2 * tenth], order[tenth:]
    train_s, (model, stats) = _synchronized(
        lambda: train_classifier(data, labeled, val, params, 10, True, init_seed=0, order_seed=1), device
    )

    def score():
        outputs = TrainedModels(
            [model], data, pool, 10, scoring_batch_size(params.training, device), seed=0, precision=precision
        )
        return outputs.probs(pool), outputs.embeddings(pool)

    score_s, _ = _synchronized(score, device)
    epochs = f"{stats.epochs} epoch{'s' * (stats.epochs != 1)}"
    return Row(
        f"gpu: AL cycle, CIFAR-10 scale, {precision}",
        train_s + score_s,
        None,
        "s",
        f"train on {len(labeled):,} to early stopping ({epochs}, {train_s:.1f} s; params/cifar10.yaml "
        f"training) + score {len(pool):,} ({score_s:.2f} s)",
    )


def pretext_throughput(dataset, device: torch.device) -> Row:
    from alnb.methods.pretext import train_pretext

    train_pretext("rotation", dataset.train_images[:2_048], 0, device, epochs=1)  # warm-up
    seconds, _ = _synchronized(lambda: train_pretext("rotation", dataset.train_images, 0, device, epochs=1), device)
    return Row(
        f"gpu: rotation pretext, one epoch of {dataset.n_train:,}",
        dataset.n_train / seconds,
        None,
        "images/s",
        f"{seconds:.1f} s including scoring every image once",
        higher_is_better=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=None,
        help="cap the AL cycle's epochs (default: params/cifar10.yaml's, with its early stopping)",
    )
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no GPU (torch.cuda.is_available() is False); nothing to measure")
        return 0
    from bench_training import synthetic_dataset
    from run_all import format_table, write_csv

    device = torch.device("cuda")
    name = torch.cuda.get_device_name(device)
    dataset = synthetic_dataset("cifar_shaped", N_IMAGES, 3, 32)
    table = [resnet_epoch(dataset, device)]
    print(format_table(table), flush=True)
    for precision in ("bf16", "fp32"):
        table.append(al_cycle(dataset, device, precision, args.max_epochs))
        print(format_table(table[-1:]), flush=True)
    table.append(pretext_throughput(dataset, device))
    header = f"{name}; torch {torch.__version__}"
    print(header)
    print(format_table(table))
    path = ROOT / "benchmarks" / "results" / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".csv")
    write_csv(table, path, header)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
