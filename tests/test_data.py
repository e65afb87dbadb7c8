import numpy as np
import pytest
import torch
from dataset_files import write_idx, write_pickle
from PIL import Image

from alnb.data import datasets


def test_digits_in_memory_uint8(digits):
    assert digits.train_images.dtype == torch.uint8 and digits.train_images.shape[1:] == (1, 8, 8)
    assert digits.n_train + len(digits.test_labels) == 1797
    assert digits.n_classes == 10 and digits.train_images.max() == 255


def test_digits_test_split_fixed_and_disjoint_from_train():
    a, b = datasets.load_dataset("digits"), datasets.load_dataset("digits")
    assert torch.equal(a.test_images, b.test_images)
    assert len(a.test_labels) == 449 and a.n_train == 1348
    assert len(datasets.load_dataset("digits", test_size=300).test_labels) == 300


def test_splits_seeded_disjoint_and_cover(digits):
    s0, s0b, s1 = (
        datasets.make_splits(digits, 150, 0),
        datasets.make_splits(digits, 150, 0),
        datasets.make_splits(digits, 150, 1),
    )
    assert np.array_equal(s0.pool, s0b.pool) and not np.array_equal(s0.val, s1.val)
    assert len(s0.val) == 150 and np.intersect1d(s0.pool, s0.val).size == 0
    assert len(s0.pool) + len(s0.val) == digits.n_train
    assert len(datasets.make_splits(digits, 0.1, 0).val) == int(0.1 * digits.n_train)


@pytest.mark.parametrize("n_max,classes,factor,total", [(5000, 10, 100, 12406), (500, 100, 100, 10847)])
def test_long_tail_counts_match_cui_et_al(n_max, classes, factor, total):
    counts = datasets.long_tail_counts(n_max, classes, factor)
    assert counts.sum() == total and counts[0] == n_max and counts[-1] == n_max // factor


def test_long_tailed_dataset_keeps_test_balanced(digits):
    lt = datasets.long_tailed(digits, 10)
    counts = np.bincount(lt.train_labels.numpy(), minlength=10)
    expected = datasets.long_tail_counts(int(np.bincount(digits.train_labels.numpy()).max()), 10, 10)
    assert (counts == np.minimum(expected, np.bincount(digits.train_labels.numpy()))).all()
    assert torch.equal(lt.test_labels, digits.test_labels) and lt.name == "digits_lt10"


def test_resolve_size():
    assert datasets.resolve_size(0.05, 1000, "k") == 50 and datasets.resolve_size(20, 1000, "k") == 20
    with pytest.raises(ValueError, match="k: a fraction"):
        datasets.resolve_size(1.5, 1000, "k")
    with pytest.raises(ValueError, match="outside"):
        datasets.resolve_size(2000, 1000, "k")


def test_mnist_loader_reads_idx_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x_tr, y_tr = rng.integers(0, 256, (12, 28, 28)), rng.integers(0, 10, 12)
    x_te, y_te = rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)
    for name, arr in [
        ("train-images-idx3-ubyte", x_tr),
        ("train-labels-idx1-ubyte", y_tr),
        ("t10k-images-idx3-ubyte", x_te),
        ("t10k-labels-idx1-ubyte", y_te),
    ]:
        write_idx(raw / name, arr)
    ds = datasets.load_dataset("mnist", tmp_path)
    assert ds.train_images.shape == (12, 1, 28, 28) and ds.test_images.shape == (5, 1, 28, 28)
    assert np.array_equal(ds.train_images[:, 0].numpy(), x_tr) and np.array_equal(ds.test_labels.numpy(), y_te)


def test_cifar10_loader_reads_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = []
    for i in range(1, 6):
        x, y = (
            rng.integers(0, 256, (3, 3072), dtype=np.uint8),
            rng.integers(0, 10, 3).tolist(),
        )  # python ints, as released
        batches.append((x, y))
        write_pickle(folder / f"data_batch_{i}", {"data": x, "labels": y})
    write_pickle(
        folder / "test_batch", {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3]}
    )
    write_pickle(folder / "batches.meta", {"label_names": [f"c{i}" for i in range(10)]})
    ds = datasets.load_dataset("cifar10", tmp_path)
    assert ds.train_images.shape == (15, 3, 32, 32) and ds.n_classes == 10 and ds.classes[3] == "c3"
    assert np.array_equal(ds.train_images[3].numpy().reshape(-1), batches[1][0][0])
    assert ds.train_labels.tolist() == [int(v) for _, y in batches for v in y]


def test_cifar100_loader_reads_fine_labels(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    rng = np.random.default_rng(1)
    write_pickle(
        folder / "train",
        {
            "data": rng.integers(0, 256, (6, 3072), dtype=np.uint8),
            "fine_labels": [5, 99, 0, 1, 2, 3],
            "coarse_labels": [0] * 6,
        },
    )
    write_pickle(
        folder / "test",
        {"data": rng.integers(0, 256, (2, 3072), dtype=np.uint8), "fine_labels": [7, 8], "coarse_labels": [0, 0]},
    )
    write_pickle(folder / "meta", {"fine_label_names": [f"f{i}" for i in range(100)], "coarse_label_names": []})
    ds = datasets.load_dataset("cifar100", tmp_path)
    assert ds.n_classes == 100 and ds.train_labels.tolist() == [5, 99, 0, 1, 2, 3]


def test_tinyimagenet_loader_reads_folder_layout(tmp_path, user_cache):
    root = tmp_path / "tiny-imagenet-200"
    wnids = ["n01443537", "n01629819"]
    (root / "val" / "images").mkdir(parents=True)
    (root / "wnids.txt").write_text("\n".join(wnids) + "\n")
    rng = np.random.default_rng(0)
    for w in wnids:
        (root / "train" / w / "images").mkdir(parents=True)
        for k in range(3):
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
                root / "train" / w / "images" / f"{w}_{k}.JPEG"
            )
    lines = []
    for k, w in enumerate([wnids[1], wnids[0]]):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
            root / "val" / "images" / f"val_{k}.JPEG"
        )
        lines.append(f"val_{k}.JPEG\t{w}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    ds = datasets.load_dataset("tinyimagenet", tmp_path)
    assert ds.train_images.shape == (6, 3, 64, 64) and ds.train_labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert ds.test_labels.tolist() == [1, 0]
    cached = datasets.load_dataset("tinyimagenet", tmp_path)  # second load reads the cached arrays
    assert torch.equal(cached.train_images, ds.train_images)
    assert not list(root.rglob("*.npz")) and len(list((user_cache / "tinyimagenet").glob("*.npz"))) == 1


@pytest.mark.parametrize(
    "name,folder",
    [
        ("mnist", "MNIST"),
        ("cifar10", "cifar-10-batches-py"),
        ("cifar100", "cifar-100-python"),
        ("tinyimagenet", "tiny-imagenet-200"),
    ],
)
def test_missing_dataset_names_folder_and_files(tmp_path, name, folder):
    with pytest.raises(datasets.DatasetNotFound, match=folder) as err:
        datasets.load_dataset(name, tmp_path, download=False)
    assert "download" in str(err.value)


def test_a_dataset_is_read_through_its_spec_only(tmp_path, monkeypatch):
    """load_dataset knows no dataset by name: the spec's reader (and fetcher) decide; its messages name no
    params key (run.validation words those)."""
    from dataclasses import replace

    from alnb.data.specs import SPECS

    fetched = []
    arrays = (np.zeros((4, 1, 8, 8), np.uint8), np.array([0, 1, 0, 1]), np.zeros((2, 1, 8, 8), np.uint8), [0, 1])
    spec = replace(
        SPECS["mnist"], read=lambda spec, source: (*arrays, ("a", "b")), fetch=lambda spec, root: fetched.append(root)
    )
    monkeypatch.setitem(SPECS, "mnist", spec)
    with pytest.raises(datasets.DatasetNotFound) as err:
        datasets.load_dataset("mnist", tmp_path)
    assert "data." not in str(err.value) and "downloads are off" in str(err.value)
    dataset = datasets.load_dataset("mnist", tmp_path, download=True)
    assert fetched == [tmp_path] and dataset.classes == ("a", "b") and dataset.n_train == 4


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="valid: digits, mnist"):
        datasets.load_dataset("imagenet")
