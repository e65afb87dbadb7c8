"""The ``imagefolder`` dataset: a researcher's own class subfolders of PNG/JPEG files."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from dataset_files import structured_images, write_imagefolder
from PIL import Image

from alnb.core.config import ParamsError
from alnb.data.datasets import load_dataset
from alnb.data.imagefolder import ImageFolderError, train_class_counts
from alnb.run.study import Study
from alnb.run.validation import params_from_dict

CLASSES = ["cat", "dog", "emu"]


def folder_with(
    tmp_path: Path, n_train: int = 30, n_test: int | None = 12, channels: int = 3, size: int = 16, suffix: str = ".png"
) -> Path:
    x, y = structured_images(n_train + (n_test or 0), len(CLASSES), channels, size, seed=1)
    root = tmp_path / "images"
    if n_test:
        return write_imagefolder(root, x[:n_train], y[:n_train], CLASSES, x[n_train:], y[n_train:], suffix=suffix)
    return write_imagefolder(root, x, y, CLASSES, suffix=suffix)


def test_reads_train_and_test_folders_resized_with_class_names(tmp_path):
    root = folder_with(tmp_path, size=20)
    data = load_dataset("imagefolder", root, image_size=12)
    assert data.classes == tuple(CLASSES) and data.n_classes == 3
    assert data.train_images.shape == (30, 3, 12, 12) and data.test_images.shape == (12, 3, 12, 12)
    assert data.train_images.dtype == torch.uint8
    written = structured_images(42, 3, 3, 20, seed=1)[1]
    assert np.bincount(data.train_labels.numpy()).tolist() == np.bincount(written[:30]).tolist()


def test_grayscale_images_give_one_channel_and_jpegs_are_read(tmp_path):
    data = load_dataset("imagefolder", folder_with(tmp_path, channels=1, suffix=".jpg"), image_size=16)
    assert data.in_channels == 1 and data.image_size == 16


def test_pixels_are_the_written_ones_at_the_native_size(tmp_path):
    x, y = structured_images(6, 3, 3, 16, seed=2)
    root = write_imagefolder(tmp_path / "f", x, y, CLASSES, x, y)
    data = load_dataset("imagefolder", root, image_size=16)
    order = np.argsort(y, kind="stable")  # the loader reads class by class, files in name order
    assert torch.equal(data.test_images, torch.from_numpy(x[order]))


def test_without_test_folder_a_fixed_stratified_split(tmp_path, user_cache):
    root = folder_with(tmp_path, n_train=40, n_test=None)
    first = load_dataset("imagefolder", root, test_size=0.25, image_size=16)
    per_class = np.bincount(structured_images(40, 3, 3, 16, seed=1)[1])
    assert np.bincount(first.test_labels.numpy()).tolist() == np.rint(per_class * 0.25).astype(int).tolist()
    assert first.n_train + first.test_labels.numel() == 40
    assert np.bincount(first.train_labels.numpy()).tolist() == train_class_counts(root, 0.25).tolist()
    for cache in (user_cache / "imagefolder").glob("*.npz"):
        cache.unlink()
    second = load_dataset("imagefolder", root, test_size=0.25, image_size=16)
    assert torch.equal(first.test_images, second.test_images) and torch.equal(first.train_labels, second.train_labels)


def listing(folder: Path) -> list[tuple[str, int, int]]:
    """Every path under ``folder`` with its size and modification time."""
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_decoded_once_into_a_cache_keyed_by_size_and_listing(tmp_path, user_cache):
    root = folder_with(tmp_path)
    load_dataset("imagefolder", root, image_size=16)
    caches = list((user_cache / "imagefolder").glob("*.npz"))
    assert len(caches) == 1
    stamp = caches[0].stat().st_mtime_ns
    load_dataset("imagefolder", root, image_size=16)
    assert caches[0].stat().st_mtime_ns == stamp  # read, not rewritten
    load_dataset("imagefolder", root, image_size=8)
    Image.new("RGB", (16, 16)).save(root / "train" / "cat" / "extra.png")
    assert load_dataset("imagefolder", root, image_size=16).n_train == 31
    assert len(list((user_cache / "imagefolder").glob("*.npz"))) == 3
    assert not any("cache" in p.name for p in root.rglob("*"))


def test_cache_dir_names_where_the_arrays_go_and_a_read_only_root_is_never_written(tmp_path, user_cache):
    root = folder_with(tmp_path)
    before = listing(root)
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o555)
    try:  # as root chmod does not stop writes: the listing below shows that nothing was written
        first = load_dataset("imagefolder", root, image_size=16, cache_dir=tmp_path / "cache")
        again = load_dataset("imagefolder", root, image_size=16, cache_dir=tmp_path / "cache")
    finally:
        for folder in [root, *root.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o755)
    assert listing(root) == before
    assert len(list((tmp_path / "cache" / "imagefolder").glob("*.npz"))) == 1 and not user_cache.exists()
    assert torch.equal(first.train_images, again.train_images)


def test_a_cache_dir_inside_the_data_is_refused(tmp_path):
    root = folder_with(tmp_path)
    raw = {
        "data": {
            "dataset": "imagefolder",
            "root": str(root),
            "image_size": 16,
            "val_size": 3,
            "cache_dir": str(root / "cache"),
        },
        "al": {"initial_size": 3, "budget": 3, "cycles": 1, "seeds": [0]},
    }
    with pytest.raises(ParamsError, match="data.cache_dir: .* lies inside data.root"):
        params_from_dict(raw)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda root: [p.unlink() for p in (root / "train" / "dog").iterdir()], r"class folder .*dog holds no image"),
        (
            lambda root: (root / "train" / "emu" / "broken.png").write_bytes(b"not a png"),
            r"cannot read image .*broken\.png",
        ),
        (
            lambda root: (root / "test" / "yak").mkdir() or (root / "test" / "yak" / "0.png").write_bytes(b""),
            r"classes that .*train lacks: yak",
        ),
    ],
)
def test_bad_layouts_fail_with_one_line_naming_the_place(tmp_path, damage, message):
    root = folder_with(tmp_path)
    damage(root)
    with pytest.raises(ImageFolderError, match=message) as err:
        load_dataset("imagefolder", root, image_size=16)
    assert "\n" not in str(err.value)


def test_no_train_folder_and_no_classes(tmp_path):
    with pytest.raises(ImageFolderError, match="has no train folder"):
        load_dataset("imagefolder", tmp_path, image_size=16)
    (tmp_path / "train").mkdir()
    with pytest.raises(ImageFolderError, match="no class folders in"):
        load_dataset("imagefolder", tmp_path, image_size=16)


def test_params_check_image_size_and_layout_before_any_compute(tmp_path):
    root = folder_with(tmp_path)
    base = {
        "data": {"dataset": "imagefolder", "root": str(root), "val_size": 3},
        "model": {"arch": "smallcnn"},
        "al": {"initial_size": 3, "budget": 3, "cycles": 1, "seeds": [0]},
    }
    with pytest.raises(ParamsError, match="data.image_size: imagefolder resizes"):
        params_from_dict(base)
    params_from_dict({**base, "data": {**base["data"], "image_size": 16}})
    with pytest.raises(ParamsError, match="data.image_size: applies to imagefolder only"):
        params_from_dict({"data": {"dataset": "digits", "image_size": 16}})
    with pytest.raises(ParamsError, match="no train folder"):
        params_from_dict({**base, "data": {**base["data"], "image_size": 16, "root": str(tmp_path)}})
    with pytest.raises(ParamsError, match="al.initial_size"):  # sizes are checked against the folder's images
        params_from_dict({**base, "data": {**base["data"], "image_size": 16}, "al": {"initial_size": 40}})


@pytest.mark.slow
def test_study_on_a_read_only_folder_of_pngs_runs_end_to_end(tmp_path, user_cache):
    root = folder_with(tmp_path, n_train=120, n_test=30, size=20)
    before = listing(root)
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o555)
    raw = {
        "study": "folder",
        "run_dir": str(tmp_path / "run"),
        "data": {"dataset": "imagefolder", "root": str(root), "image_size": 16, "val_size": 15},
        "model": {"arch": "smallcnn"},
        "training": {"lr": 2.0e-3, "max_epochs": 8, "patience": 3, "min_samples_per_epoch": 128},
        "al": {
            "initial_size": 12,
            "budget": 12,
            "cycles": 2,
            "seeds": [0],
            "inits": ["random", "kmeans_equal"],
            "queries": ["random", "entropy"],
        },
        "executor": {"kind": "serial", "threads": 1},
        "visualization": {"method": "pca", "max_points": 100},
    }
    params_file = tmp_path / "folder.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    try:  # what the notebooks call, in this process: the pools and the AL grid
        study = Study.load(params_file)
        study.pools.build()
        study.grid.run(progress=False)
    finally:
        for folder in [root, *root.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o755)
    assert listing(root) == before  # nothing written into data.root (as root, chmod alone would not stop it)
    assert len(list((user_cache / "imagefolder").glob("*.npz"))) == 1
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert len(results) == 2 * 2 * 3 and set(results["cycle"]) == {0, 1, 2}
    assert results.loc[results["cycle"] == 2, "test_acc"].mean() > 1 / 3


def test_model_init_is_checked_at_the_folders_image_size(tmp_path):
    from alnb.core.config import ParamsError
    from alnb.run.validation import params_from_dict

    raw = {
        "data": {
            "dataset": "imagefolder",
            "root": str(folder_with(tmp_path, n_train=90)),
            "image_size": 32,
            "val_size": 10,
        },
        "al": {"initial_size": 6, "budget": 6, "cycles": 1},
        "pretext": {"tasks": ["rotation"]},
        "model": {"init": "rotation"},
    }
    assert params_from_dict(raw, tmp_path).model.init == "rotation"
    raw["model"]["arch"], raw["pretext"]["arch"] = "smallcnn", "resnet18"
    with pytest.raises(ParamsError, match="model.init: 'rotation' loads the resnet18 encoder"):
        params_from_dict(raw, tmp_path)
