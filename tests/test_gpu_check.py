"""benchmarks/gpu_check.py, each measurement on a few CPU images: the code a lent GPU will run, run here first."""

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_check  # noqa: E402
from bench_training import synthetic_dataset  # noqa: E402

pytestmark = pytest.mark.slow  # starts processes, Ray or multi-trial studies

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_cifar():
    return synthetic_dataset("cifar_shaped", 60, 3, 32)


def test_resnet_epoch_row(tiny_cifar):
    row = gpu_check.resnet_epoch(tiny_cifar, CPU, repeats=1)
    assert row.benchmark == "gpu: ResNet18 epoch, 60 × 32×32×3" and math.isfinite(row.alnb) and row.alnb > 0


def test_al_cycle_row_trains_and_scores(tiny_cifar):
    row = gpu_check.al_cycle(tiny_cifar, CPU, "bf16", max_epochs=1)
    assert row.alnb > 0 and "train on 6 to early stopping (1 epoch," in row.note and "score 54 (" in row.note


def test_pretext_throughput_row():
    row = gpu_check.pretext_throughput(synthetic_dataset("cifar_shaped", 12, 3, 32), CPU)
    assert row.benchmark == "gpu: rotation pretext, one epoch of 12" and row.alnb > 0 and row.higher_is_better


def test_without_a_gpu_it_says_so_and_exits_0(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sys, "argv", ["gpu_check.py"])
    assert gpu_check.main() == 0
    assert "no GPU" in capsys.readouterr().out
