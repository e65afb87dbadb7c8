"""The paper-scale code path end to end: each dataset written in its true on-disk format (MNIST idx files,
CIFAR-10/100 python pickles, the tiny-imagenet-200 folder of JPEGs) with learnable structure, and a whole
study at the smallest size that keeps the real settings: ResNet18 (CIFAR stem
below 64×64, the standard stem at 64×64), flips on natural images, pretext encoders of arch ``resnet18``,
one member of every pool family, and a committee query.

Four classes appear in the data (the loaders still report each dataset's 10, 100 or 200 classes), so a few
optimizer steps can lift accuracy above chance, which here is one in four. CIFAR-100 gets 100 unlabeled images:
DeepCluster clusters the pool into as many clusters as the dataset has classes.
"""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from dataset_files import structured_images, write_cifar10, write_cifar100, write_mnist, write_tinyimagenet

from alnb.methods.pools.base import POOL_FAMILIES
from alnb.report.render import NOTEBOOKS, run_study
from alnb.run.study import Study

N_TRAIN = {"mnist": 48, "cifar10": 48, "cifar100": 108, "tinyimagenet": 48}
N_TEST, VAL_SIZE = 24, 8
PRESENT = [0, 1, 2, 3]
SHAPES = {"mnist": (1, 28), "cifar10": (3, 32), "cifar100": (3, 32), "tinyimagenet": (3, 64)}
# One member of each pool family: the AL grid starts from `random` (whose labels cover the classes, so a few steps
# learn), notebook 02 builds the others from the ResNet18 pretext encoders.
EXTRA_INITS = [
    "rotation",
    "kmeans_rotation_equal",
    "deepcluster_equal",
    "probcover_rotation",
    "typiclust_rotation",
    "maxherding_rotation",
    "kcenter_rotation",
    "balanced_random",
]


def write_dataset(name: str, root: Path) -> None:
    channels, side = SHAPES[name]
    n_train = N_TRAIN[name]
    x, y = structured_images(n_train + N_TEST, 10, channels, side, seed=3, classes=PRESENT)
    parts = (x[:n_train], y[:n_train], x[n_train:], y[n_train:])
    if name == "mnist":
        write_mnist(root, *parts)
    elif name == "cifar10":
        write_cifar10(root, *parts)
    elif name == "cifar100":
        write_cifar100(root, *parts)
    else:
        write_tinyimagenet(root, *parts, n_classes=4)


def study_params(name: str, tmp_path: Path, every_family: bool = True) -> dict:
    """The study of ``name``; without ``every_family`` only the rotation pretext task (and on CIFAR-100 DeepCluster,
    which clusters the pool into the dataset's 100 classes), one pool built from each and a single-model query:
    the dataset's loader and its ResNet18 are what such a run checks."""
    light_tasks = ["rotation", "deepcluster"] if name == "cifar100" else ["rotation"]
    light_inits = ["rotation", "deepcluster_equal"] if name == "cifar100" else ["rotation"]
    natural = name != "mnist"
    training = {
        "lr": 5.0e-4,
        "batch_size": 4,
        "max_epochs": 6,
        "patience": 4,
        "min_samples_per_epoch": 0,
        "hflip": natural,
    }
    if name == "tinyimagenet":  # the crop path of the plan's 224 crops, at the data's own size to stay cheap
        training["random_resized_crop"] = 64
    return {
        "study": f"paper_{name}",
        "run_dir": str(tmp_path / "run"),
        "data": {"dataset": name, "root": str(tmp_path / "data"), "val_size": VAL_SIZE},
        "model": {"arch": "resnet18"},
        "training": training,
        "al": {
            "initial_size": 8,
            "budget": 4,
            "cycles": 2,
            "seeds": [0],
            "inits": ["random"],
            "queries": ["ens_entropy" if every_family else "entropy"],
        },
        "pretext": {
            "tasks": ["rotation", "deepcluster"] if every_family else light_tasks,
            "arch": "resnet18",
            "settings": {"rotation": {"epochs": 1, "batch_size": 16}, "deepcluster": {"epochs": 1, "batch_size": 16}},
        },
        "pools": {"extra_inits": EXTRA_INITS if every_family else light_inits},
        "executor": {"kind": "serial", "threads": 1},
        "visualization": {"method": "pca", "max_points": 40},
    }


def test_the_extra_inits_cover_every_pool_family():
    inits = ["random", *EXTRA_INITS]
    for family in POOL_FAMILIES:
        assert sum(bool(family.pattern.match(name)) for name in inits) == 1, family.examples


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, notebooks, every_family",
    [("tinyimagenet", True, True), ("cifar10", False, False), ("cifar100", False, False), ("mnist", False, False)],
)
def test_paper_scale_study(name, notebooks, every_family, tmp_path):
    """TinyImageNet (the standard stem at 64×64, random-resized crops) runs through notebooks 01-03 (papermill,
    rendered reports: pretext training, every pool family, AL with a committee); CIFAR-10, CIFAR-100 (DeepCluster with its 100
    clusters) and MNIST make the notebooks' library calls in this process, to check their loader and ResNet18
    with fewer pretext tasks, pools and a single-model query."""
    write_dataset(name, tmp_path / "data")
    raw = study_params(name, tmp_path, every_family)
    params_file = tmp_path / f"{name}.yaml"
    params_file.write_text(yaml.safe_dump(raw))
    if notebooks:  # the notebooks that train, build pools and run AL (04-06 run in the quick study's test)
        report_dir = run_study(params_file, NOTEBOOKS[:3], report_dir=tmp_path / "reports", log=lambda *_: None)
        assert sorted(p.name for p in report_dir.glob("*.html")) == sorted(
            [f"{n}.html" for n in NOTEBOOKS[:3]] + ["index.html"]
        )
    else:
        study = Study.load(params_file)
        study.grid.prepare_self_supervised(progress=False)
        study.pools.build()
        study.grid.run(progress=False)
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert list(zip(results["init"], results["query"], results["seed"], results["cycle"])) == [
        ("random", raw["al"]["queries"][0], 0, c) for c in range(3)
    ]
    assert results["n_labeled"].tolist() == [8, 12, 16]
    assert not every_family or {"ensemble_test_acc", "member_test_acc"} <= set(results.columns)
    pools = pd.read_csv(tmp_path / "run" / "initial_pools.csv")
    assert set(pools["init"]) == {"random", *raw["pools"]["extra_inits"]}
    assert (pools.groupby("init").size() == 8).all()
    pretext = tmp_path / "run" / "pretext"
    assert {p.name.split("-")[0] for p in pretext.glob("*/seed0/*")} == set(raw["pretext"]["tasks"])
    chance = 1 / len(PRESENT)
    assert results["test_acc"].max() > chance + 0.1, results[["cycle", "test_acc"]]
