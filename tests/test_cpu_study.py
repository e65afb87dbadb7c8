"""A real dataset on a CPU: ``pretext.arch: auto`` follows ``model.arch``, ``data.train_subset``, and
``params/cifar10_cpu.yaml`` run on small data in the true CIFAR-10 format (python pickles)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from dataset_files import structured_images, write_cifar10

from alnb.__main__ import main
from alnb.core.config import ParamsError
from alnb.data.datasets import SUBSET_SEED, load_dataset, subset_counts
from alnb.methods.pretext import load_result
from alnb.report.render import run_study
from alnb.run.estimate import report
from alnb.run.protocol import protocol
from alnb.run.study import Study
from alnb.run.validation import load_params, params_from_dict

ROOT = Path(__file__).resolve().parents[1]


def cifar10_files(root: Path, n_train: int = 120, n_test: int = 20) -> Path:
    """A small CIFAR-10 in its release's format, with learnable structure in 4 of its 10 classes."""
    x, y = structured_images(n_train + n_test, 10, 3, 32, seed=5, classes=[0, 1, 2, 3])
    write_cifar10(root, x[:n_train], y[:n_train], x[n_train:], y[n_train:])
    return root


def small_study(tmp_path: Path, **pretext) -> dict:
    return {
        "study": "small",
        "run_dir": str(tmp_path / "run"),
        "data": {"dataset": "cifar10", "root": str(cifar10_files(tmp_path / "data")), "val_size": 8},
        "model": {"arch": "smallcnn"},
        "training": {"max_epochs": 1},
        "al": {"initial_size": 8, "budget": 4, "cycles": 1, "seeds": [0]},
        "pretext": {
            "tasks": ["rotation", "deepcluster"],
            "settings": {"rotation": {"epochs": 1}, "deepcluster": {"epochs": 1}},
            **pretext,
        },
        "executor": {"kind": "serial", "threads": 1},
    }


def test_pretext_arch_auto_trains_small_cnn_encoders_beside_a_small_cnn(tmp_path):
    study = Study(params_from_dict(small_study(tmp_path), tmp_path))
    assert (
        study.representations.dataset.image_size == 32 and study.representations.pretext_arch == "smallcnn"
    )  # auto alone would be resnet18
    rotation = study.representations.self_supervised(0, "rotation")
    assert rotation.settings["arch"] == "smallcnn"
    assert any(k.startswith("encoder.layers.") for k in rotation.state_dict)
    assert not any("conv1" in k for k in rotation.state_dict)  # no ResNet18 layer
    assert any(
        k.startswith("encoder.layers.") for k in study.representations.self_supervised(0, "deepcluster").state_dict
    )
    explicit = Study(params_from_dict(small_study(tmp_path, arch="resnet18"), tmp_path))
    assert explicit.representations.pretext_arch == "resnet18" and explicit.representations._pretext_folder(
        0, "rotation"
    ) != study.representations._pretext_folder(0, "rotation")  # the cache keys on the resolved architecture


def test_check_notes_an_encoder_that_differs_from_the_classifier_on_purpose(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(small_study(tmp_path, arch="resnet18")))
    assert main(["check", str(path)]) == 0
    assert (
        "note: pretext.arch: resnet18 trains resnet18 encoders while the classifier is a smallcnn"
        in capsys.readouterr().out
    )
    path.write_text(yaml.safe_dump(small_study(tmp_path)))
    assert main(["check", str(path)]) == 0
    assert "note:" not in capsys.readouterr().out


def test_estimate_gives_the_self_supervised_share_with_the_followed_architecture(tmp_path):
    auto = report(params_from_dict(small_study(tmp_path), tmp_path, data_on_disk=False), 20)
    resnet = report(params_from_dict(small_study(tmp_path, arch="resnet18"), tmp_path, data_on_disk=False), 20)
    share = [line for line in auto.splitlines() if line.startswith("self-supervised models")]
    assert share and "(smallcnn encoders)" in share[0] and "% of the FLOPs" in share[0]
    percent = {
        text: float(text.split("): ")[1].split("%")[0])
        for text in (share[0], next(line for line in resnet.splitlines() if line.startswith("self-supervised models")))
    }
    assert min(percent.values()) < max(percent.values())  # ResNet18 encoders cost more


def test_subset_counts_are_stratified_and_add_up():
    assert subset_counts(np.array([5000] * 10), 4000).tolist() == [400] * 10
    counts = subset_counts(np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]), 1000)
    assert counts.sum() == 1000 and counts.max() - counts.min() <= 23 and counts[1] == counts.max()
    assert subset_counts(np.array([3, 5, 7]), 0.5).sum() == 7


def test_train_subset_is_seeded_stratified_and_the_test_split_whole(tmp_path):
    root = cifar10_files(tmp_path / "data", n_train=120)
    full = load_dataset("cifar10", root)
    subset = load_dataset("cifar10", root, train_subset=60)
    again = load_dataset("cifar10", root, train_subset=0.5)
    assert subset.n_train == 60 and torch.equal(subset.train_images, again.train_images)
    half = np.bincount(full.train_labels.numpy(), minlength=10) / 2
    assert (np.abs(np.bincount(subset.train_labels.numpy(), minlength=10) - half) <= 0.5).all()
    assert torch.equal(subset.test_images, full.test_images)
    rows = {bytes(img.numpy()) for img in full.train_images}
    assert all(bytes(img.numpy()) in rows for img in subset.train_images)
    assert SUBSET_SEED  # one fixed seed: every trial and notebook sees the same subset


def test_train_subset_is_checked_and_recorded(tmp_path):
    raw = small_study(tmp_path)
    for bad, message in [
        (60000, r"data.train_subset: a count must lie in \[1, 50000\]"),
        (1.5, r"data.train_subset: a fraction must lie in \(0, 1\]"),
        (5, "data.train_subset: 5 leaves class .* without a train image"),
    ]:
        with pytest.raises(ParamsError, match=message):
            params_from_dict({**raw, "data": {**raw["data"], "train_subset": bad}}, tmp_path)
    with pytest.raises(ParamsError, match="al.initial_size: initial pool 8 .* exceeds the unlabeled pool"):
        params_from_dict(
            {**raw, "data": {**raw["data"], "train_subset": 20}, "al": {**raw["al"], "cycles": 3}}, tmp_path
        )
    study = Study(params_from_dict({**raw, "data": {**raw["data"], "train_subset": 100}}, tmp_path))
    assert protocol(study.params)["data"]["train_subset"] == 100
    assert "train_subset" not in protocol(params_from_dict(raw, tmp_path))["data"]
    assert "cache_dir" not in protocol(study.params)["data"]


def cpu_params_on_small_files(tmp_path: Path) -> dict:
    """params/cifar10_cpu.yaml as shipped, with only the sizes scaled to 120 train images and a temporary run."""
    raw = yaml.safe_load((ROOT / "params" / "cifar10_cpu.yaml").read_text())
    raw["run_dir"] = str(tmp_path / "run")
    raw["data"].update(root=str(cifar10_files(tmp_path / "data")), train_subset=100, val_size=10)
    raw["training"].update(max_epochs=2, min_samples_per_epoch=32)
    raw["al"].update(initial_size=10, budget=4, cycles=2, seeds=[0, 1])
    raw["pretext"]["settings"] = {task: {"epochs": 1} for task in raw["pretext"]["tasks"]}
    raw["executor"] = {"kind": "serial", "threads": 1}
    raw["visualization"]["max_points"] = 60
    return raw


def test_the_cpu_params_file_asks_for_what_it_promises():
    params = load_params(ROOT / "params" / "cifar10_cpu.yaml", data_on_disk=False)
    assert params.data.dataset == "cifar10" and params.data.train_subset and params.model.arch == "smallcnn"
    assert params.pretext.arch in ("auto", "smallcnn") and len(params.al.seeds) >= 5
    text = report(params, 20)
    assert "smallcnn at 32×32" in text and "(smallcnn encoders)" in text


@pytest.mark.slow
def test_the_cpu_params_file_runs_through_the_notebooks_on_cifar10_files(tmp_path):
    raw = cpu_params_on_small_files(tmp_path)
    params_file = tmp_path / "cifar10_cpu.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    # 03 trains the encoders its pools need and runs the grid; 06 draws both maps; the index is always written
    report_dir = run_study(
        params_file, notebooks=("03_al_runs", "06_visualization"), report_dir=tmp_path / "reports", log=lambda *_: None
    )
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert set(results["init"]) == set(raw["al"]["inits"]) and set(results["seed"]) == {0, 1}
    assert results["n_labeled"].max() == 10 + 2 * 4
    encoders = sorted((tmp_path / "run" / "pretext").glob("*/seed*/simclr-*"))
    assert len(encoders) == 2 and {load_result(folder).settings["arch"] for folder in encoders} == {"smallcnn"}
    index = (report_dir / "index.html").read_text()
    assert "stratified subset of 100 train images" in index
    assert {"06_visualization_pool_maps", "06_visualization_pool_maps_2"} <= {
        p.stem for p in (report_dir / "figures").glob("*.png")
    }
    maps = {p.name.split("_")[2] for p in (tmp_path / "run" / "maps").glob("seed0_pixels_*.npy")}
    assert maps == {"tsne", "umap"}  # 06 shows UMAP beside t-SNE; each map cached under its method
    assert "Traceback" not in "".join(p.read_text() for p in report_dir.glob("*.html"))
