"""Dataset files are checked as they load: every corrupt variant, written in the true on-disk format, is
refused in one line naming the file, what was expected and what was found."""

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from dataset_files import (
    tiny_wnids,
    write_cifar10,
    write_cifar100,
    write_idx,
    write_mnist,
    write_pickle,
    write_tinyimagenet,
)
from PIL import Image

from alnb.__main__ import main
from alnb.data import datasets
from alnb.data.checks import DatasetError, check_labels

RNG = np.random.default_rng(0)


def _images(n, channels, size):
    return RNG.integers(0, 256, (n, channels, size, size), dtype=np.uint8)


def mnist(root: Path) -> Path:
    return write_mnist(root, _images(12, 1, 28), RNG.integers(0, 10, 12), _images(5, 1, 28), RNG.integers(0, 10, 5))


def cifar10(root: Path) -> Path:
    return write_cifar10(root, _images(10, 3, 32), RNG.integers(0, 10, 10), _images(4, 3, 32), RNG.integers(0, 10, 4))


def cifar100(root: Path) -> Path:
    return write_cifar100(root, _images(6, 3, 32), RNG.integers(0, 100, 6), _images(2, 3, 32), RNG.integers(0, 100, 2))


def tinyimagenet(root: Path) -> Path:
    return write_tinyimagenet(root, _images(4, 3, 64), [0, 0, 1, 1], _images(2, 3, 64), [1, 0], n_classes=2)


def truncate(path: Path, n_bytes: int) -> None:
    path.write_bytes(path.read_bytes()[:-n_bytes])


# (dataset, writer, corruption of the written folder, regex of the message)
CORRUPT = {
    "mnist truncated images": (
        "mnist",
        mnist,
        lambda f: truncate(f / "train-images-idx3-ubyte", 100),
        r"train-images-idx3-ubyte: expected 9424 bytes \(header 12 × 28 × 28\), found 9324 "
        r"\(the file is truncated\)$",
    ),
    "mnist labels of wrong length": (
        "mnist",
        mnist,
        lambda f: write_idx(f / "train-labels-idx1-ubyte", np.zeros(11)),
        r"train-labels-idx1-ubyte: expected 12 labels \(one per image\), found 11$",
    ),
    "mnist label out of range": (
        "mnist",
        mnist,
        lambda f: write_idx(f / "t10k-labels-idx1-ubyte", [0, 1, 12, 3, 4]),
        r"t10k-labels-idx1-ubyte: expected labels in \[0, 9\], found 12 at position 2",
    ),
    "mnist images file is a labels file": (
        "mnist",
        mnist,
        lambda f: write_idx(f / "t10k-images-idx3-ubyte", np.zeros(5)),
        r"t10k-images-idx3-ubyte: expected the idx magic number 0x00000803 .*, found 0x00000801$",
    ),
    "mnist images of another size": (
        "mnist",
        mnist,
        lambda f: write_idx(f / "train-images-idx3-ubyte", _images(12, 1, 32)[:, 0]),
        r"train-images-idx3-ubyte: expected 28×28 images, found 32×32$",
    ),
    "cifar batch not a pickle": (
        "cifar10",
        cifar10,
        lambda f: (f / "data_batch_3").write_bytes(b"\x00not a pickle"),
        r"data_batch_3: expected a python pickle, found an unreadable file \(UnpicklingError",
    ),
    "cifar batch truncated": (
        "cifar10",
        cifar10,
        lambda f: truncate(f / "test_batch", 50),
        r"test_batch: expected a python pickle, found an unreadable file",
    ),
    "cifar batch with wrong keys": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "data_batch_1", {"images": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}),
        r"data_batch_1: expected keys 'data' and 'labels', found keys 'images', 'labels'$",
    ),
    "cifar batch not a dict": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "data_batch_2", [1, 2, 3]),
        r"data_batch_2: expected a dict with keys 'data' and 'labels', found a list$",
    ),
    "cifar data of wrong shape": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "data_batch_2", {"data": np.zeros((2, 1024), np.uint8), "labels": [0, 1]}),
        r"data_batch_2: expected 'data' as a uint8 array of shape \(n, 3072\), found a uint8 array of shape \(2, 1024\)$",
    ),
    "cifar data of wrong dtype": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "data_batch_2", {"data": np.zeros((2, 3072)), "labels": [0, 1]}),
        r"data_batch_2: expected 'data' as a uint8 array .*, found a float64 array of shape \(2, 3072\)$",
    ),
    "cifar labels of wrong length": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "test_batch", {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2]}),
        r"test_batch 'labels': expected 4 labels \(one per image\), found 3$",
    ),
    "cifar100 fine label out of range": (
        "cifar100",
        cifar100,
        lambda f: write_pickle(
            f / "test", {"data": np.zeros((2, 3072), np.uint8), "fine_labels": [3, 100], "coarse_labels": [0, 0]}
        ),
        r"test 'fine_labels': expected labels in \[0, 99\], found 100 at position 1",
    ),
    "cifar meta without names": (
        "cifar10",
        cifar10,
        lambda f: write_pickle(f / "batches.meta", {"names": []}),
        r"batches\.meta: expected keys 'label_names', found keys 'names'$",
    ),
    "cifar100 meta with too few names": (
        "cifar100",
        cifar100,
        lambda f: write_pickle(f / "meta", {"fine_label_names": ["a", "b"]}),
        r"meta: expected 100 class names in 'fine_label_names', found 2$",
    ),
    "tinyimagenet unknown wnid": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: (f / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn99999999\t0\t0\t63\t63\n"),
        r"val_annotations\.txt: line 1: expected a wnid of wnids\.txt, found unknown wnid 'n99999999'$",
    ),
    "tinyimagenet missing val image": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: (f / "val" / "images" / "val_1.JPEG").unlink(),
        r"val_annotations\.txt: line 2: expected the image .*val_1\.JPEG, found no such file$",
    ),
    "tinyimagenet annotation without wnid": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: (f / "val" / "val_annotations.txt").write_text("val_0.JPEG\n"),
        r"val_annotations\.txt: line 1: expected 'file<TAB>wnid<TAB>box', found 'val_0\.JPEG'$",
    ),
    "tinyimagenet wnid without training images": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: (f / "wnids.txt").write_text("\n".join(tiny_wnids(3)) + "\n"),
        r"images: expected the training images of n01445537 \(listed in wnids\.txt\) as \*\.JPEG, found none$",
    ),
    "tinyimagenet repeated wnid": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: (f / "wnids.txt").write_text("\n".join(tiny_wnids(2) * 2)),
        r"wnids\.txt: expected distinct class names in 'wnids', found 'n01443537' twice$",
    ),
    "tinyimagenet unreadable jpeg": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: next((f / "train").glob("*/images/*.JPEG")).write_bytes(b"not a jpeg"),
        r"\.JPEG: expected an image, found an unreadable file",
    ),
    "tinyimagenet image of another size": (
        "tinyimagenet",
        tinyimagenet,
        lambda f: Image.fromarray(_images(1, 3, 32)[0].transpose(1, 2, 0)).save(f / "val" / "images" / "val_0.JPEG"),
        r"val_0\.JPEG: expected a 64×64 image like the others, found 32×32$",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_files_are_refused_in_one_line_naming_the_file(tmp_path, case):
    name, write, corrupt, message = CORRUPT[case]
    folder = write(tmp_path)
    datasets.load_dataset(name, tmp_path)  # the intact files load
    corrupt(folder)
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset(name, tmp_path)
    text = str(info.value)
    assert "\n" not in text and re.search(message, text), text
    assert text.startswith(str(folder)), text


def test_layout_checks_run_without_loading(tmp_path):
    """``check_dataset_files`` (``alnb check``) sees the same problems; tinyimagenet's layout without decoding."""
    mnist_raw = mnist(tmp_path)
    truncate(mnist_raw / "t10k-labels-idx1-ubyte", 1)
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte: expected 13 bytes"):
        datasets.check_dataset_files("mnist", tmp_path)
    folder = tinyimagenet(tmp_path)
    datasets.check_dataset_files("tinyimagenet", tmp_path)
    (folder / "val" / "images" / "val_0.JPEG").unlink()
    with pytest.raises(DatasetError, match=r"line 1: expected the image"):
        datasets.check_dataset_files("tinyimagenet", tmp_path)
    datasets.check_dataset_files("digits", tmp_path / "nothing")
    with pytest.raises(datasets.DatasetNotFound):
        datasets.check_dataset_files("cifar10", tmp_path / "nothing")
    datasets.check_dataset_files("cifar10", tmp_path / "nothing", download=True)  # fetched and checked when loaded


def test_mnist_gz_archives_alone_are_read(tmp_path):
    import gzip

    raw = mnist(tmp_path)
    plain = datasets.load_dataset("mnist", tmp_path)
    for path in list(raw.iterdir()):
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    assert np.array_equal(datasets.load_dataset("mnist", tmp_path).train_images.numpy(), plain.train_images.numpy())


def test_damaged_tinyimagenet_cache_is_reported_and_rebuilt(tmp_path, user_cache):
    tinyimagenet(tmp_path)
    first = datasets.load_dataset("tinyimagenet", tmp_path)
    [cache] = (user_cache / "tinyimagenet").glob("*.npz")
    truncate(cache, 100)
    with pytest.warns(RuntimeWarning, match=r"tiny-imagenet-200_\w+\.npz: truncated or altered .*decoded again"):
        again = datasets.load_dataset("tinyimagenet", tmp_path)
    assert np.array_equal(again.train_images.numpy(), first.train_images.numpy())
    datasets.load_dataset("tinyimagenet", tmp_path)  # the rebuilt cache is intact


def test_verify_compares_the_published_md5(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    folder = cifar10(tmp_path)
    datasets.check_dataset_files("cifar10", tmp_path)
    with pytest.raises(
        DatasetError,
        match=r"data_batch_1: expected md5 c99cafc152244af753f735de768cd75f "
        r"\(the published release\), found [0-9a-f]{32}$",
    ):
        datasets.check_dataset_files("cifar10", tmp_path, verify=True)
    md5 = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", md5[f"data_batch_{i}"]] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5["test_batch"]]])
    with pytest.raises(DatasetError, match=r"batches\.meta: expected md5 5ff9c542aee3614f3951f8cda6e48888"):
        datasets.check_dataset_files("cifar10", tmp_path, verify=True)
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5["batches.meta"]})
    datasets.check_dataset_files("cifar10", tmp_path, verify=True)
    mnist(tmp_path)
    with pytest.raises(
        DatasetError,
        match=r"train-images-idx3-ubyte\.gz: expected the published file \(md5 "
        r"f68b3c2dcbeaaa9fbdd348bbdeb94873\) for data\.verify, found no file$",
    ):
        datasets.check_dataset_files("mnist", tmp_path, verify=True)


def test_check_labels_is_generic():
    assert check_labels([2, 0, 1], 3, 3, "labels.txt").dtype == np.int64
    with pytest.raises(DatasetError, match=r"^labels\.txt: expected a flat list of integer labels, found a float64"):
        check_labels(np.array([0.5, 1.0]), 2, 3, "labels.txt")
    with pytest.raises(DatasetError, match=r"^x: expected labels in \[0, 2\], found -1 at position 0 \(2 labels"):
        check_labels([-1, 5], 2, 3, "x")


# ----------------------------------------------------------------------------- through the command line


def _params(folder: Path, body: str) -> Path:
    path = folder / "params.yaml"
    path.write_text(f"run_dir: {folder / 'run'}\ndata:\n  root: {folder / 'data'}\n" + body if body else "")
    return path


CLI_CASES = [  # (preparation of folder/data, params body after run_dir and datasets.root, regex of the stderr line)
    (
        lambda d: truncate(mnist(d) / "train-images-idx3-ubyte", 1),
        "  dataset: mnist\n",
        r"^alnb: invalid dataset: .*train-images-idx3-ubyte: expected 9424 bytes .*found 9423 \(the file is truncated\)$",
    ),
    (
        lambda d: write_idx(mnist(d) / "t10k-labels-idx1-ubyte", np.zeros(7)),
        "  dataset: mnist\n",
        r"^alnb: invalid dataset: .*t10k-labels-idx1-ubyte: expected 5 labels \(one per image\), found 7$",
    ),
    (
        lambda d: (cifar10(d) / "data_batch_4").write_text("plain text"),
        "  dataset: cifar10\n",
        r"^alnb: invalid dataset: .*data_batch_4: expected a python pickle, found an unreadable file",
    ),
    (
        lambda d: write_pickle(cifar10(d) / "test_batch", {"data": np.zeros((4, 3072), np.uint8)}),
        "  dataset: cifar10\n",
        r"^alnb: invalid dataset: .*test_batch: expected keys 'data' and 'labels', found keys 'data'$",
    ),
    (
        lambda d: write_pickle(
            cifar10(d) / "test_batch", {"data": np.zeros((4, 32, 32, 3), np.uint8), "labels": [0] * 4}
        ),
        "  dataset: cifar10\n",
        r"^alnb: invalid dataset: .*test_batch: expected 'data' as a uint8 array of shape",
    ),
    (
        None,
        "al:\n  queries: [bald]\n  query_options: {mc_pases: 10}\n",
        r"^alnb: invalid params: al\.query_options: unknown name 'mc_pases'; did you mean 'mc_passes'\? valid: ",
    ),
    (
        None,
        "model:\n  dropout: 0.0\nal:\n  queries: [random, dbal]\n",
        r"^alnb: invalid params: al\.queries: 'dbal' samples MC dropout, but model\.dropout is 0",
    ),
    (None, "", r"^alnb: invalid params: params: '.*params\.yaml' is empty"),
]


@pytest.mark.parametrize(
    "command, case", [("study", i) for i in range(len(CLI_CASES))] + [("check", i) for i in range(5)]
)
def test_command_line_refuses_bad_data_and_settings_in_one_line(tmp_path, capsys, command, case):
    """Exit status 2, one stderr line, no traceback, no run directory (``check`` runs the data checks too)."""
    prepare, body, message = CLI_CASES[case]
    (tmp_path / "data").mkdir()
    if prepare:
        prepare(tmp_path / "data")
    assert main([command, str(_params(tmp_path, body))]) == 2
    stdout, stderr = capsys.readouterr()
    assert stdout == "" and "Traceback" not in stderr, (message, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), stderr
    assert not (tmp_path / "run").exists()
