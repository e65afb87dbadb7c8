"""``alnb estimate``: the cost of a params file, checked against a count by hand."""

import pytest
import yaml

from alnb.__main__ import main
from alnb.run.estimate import estimate, gpu_hours
from alnb.run.validation import load_params

TINY = {
    "study": "tiny",
    "data": {"dataset": "digits", "val_size": 48},  # 1,348 train, 449 test images
    "model": {"arch": "smallcnn"},
    "training": {"max_epochs": 3, "min_samples_per_epoch": 256},
    "al": {
        "initial_size": 100,
        "budget": 50,
        "cycles": 2,
        "seeds": [0],
        "inits": ["random", "kmeans_equal"],
        "queries": ["random", "ens_entropy"],
    },
}

# SmallCNN on one 8×8 image (2 FLOPs per multiply-add): 3×3 conv 1→32 at 8×8, 3×3 conv 32→64 at 4×4, the
# 64×2×2 map → 128 dense layer, the 128 → 10 head.
SMALLCNN_8X8_FLOPS = 2 * (8 * 8 * 32 * 9 + 4 * 4 * 64 * 9 * 32 + 256 * 128 + 128 * 10)


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def test_estimate_matches_a_count_by_hand(tiny_file):
    grids, model = estimate(load_params(tiny_file))
    assert [g.name for g in grids] == ["main grid"]
    grid = grids[0]
    assert model["forward_flops"] == SMALLCNN_8X8_FLOPS
    # labeled 100, 150, 200 → an epoch repeats them to ≥ 256 images: 300, 300, 400; 3 epochs each. Cycle 0 is
    # trained once for both queries: the committee's 3 members, member 0 being the random query's model
    models_per_cycle = {0: 3, 1: 1 + 3, 2: 1 + 3}
    epoch_images = {0: 300, 1: 300, 2: 400}
    train_per_run = sum(models_per_cycle[c] * 3 * epoch_images[c] for c in range(3))
    # every model trained: 3 validation passes over 48 images; every trial's models: the 449 test images per
    # cycle; the committee also scores U (1,300) before each of the 2 queries
    forward_per_run = sum(models_per_cycle.values()) * 3 * 48 + 3 * (1 + 3) * 449 + 2 * 3 * 1300
    assert grid.trials == 4 and grid.trainings == 2 * sum(models_per_cycle.values())
    assert grid.train_images == 2 * train_per_run
    assert grid.forward_images == 2 * forward_per_run
    assert grid.flops == SMALLCNN_8X8_FLOPS * (3 * grid.train_images + grid.forward_images)
    assert gpu_hours(3.6e16, 10) == pytest.approx(1.0)


def test_estimate_counts_pretext_models_and_sub_studies(tiny_file):
    raw = {
        **TINY,
        "pretext": {"tasks": ["rotation"], "settings": {"rotation": {"epochs": 2}}},
        "ablations": {"initial_sizes": [60], "inits": ["random"], "queries": ["random"], "seeds": [0, 1]},
        "imbalance": {"imbalance_factors": [2], "inits": ["rotation"], "queries": ["random"]},
    }
    tiny_file.write_text(yaml.safe_dump(raw))
    grids = {g.name: g for g in estimate(load_params(tiny_file))[0]}
    assert set(grids) == {
        "main grid",
        "ablation initial_size=60",
        "pretext models",
        "imbalance factor 2",
        "pretext models, factor 2",
    }
    assert grids["ablation initial_size=60"].trials == 2
    assert grids["pretext models"].trainings == 2 and grids["pretext models"].train_images == 2 * 2 * 1300
    assert grids["pretext models"].flops > 0 and grids["pretext models, factor 2"].trainings == 1


def test_cli_prints_the_figures_without_the_data_on_disk(tmp_path, capsys):
    raw = {
        "study": "c10",
        "data": {"dataset": "cifar10", "root": str(tmp_path / "absent")},
        "model": {"arch": "resnet18"},
        "training": {"max_epochs": 2},
        "al": {"seeds": [0]},
    }
    path = tmp_path / "c10.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["estimate", str(path), "--tflops", "50"]) == 0
    out = capsys.readouterr().out
    assert "resnet18 at 32×32" in out and "GPU-hours at 50 TFLOP/s" in out and "main grid" in out


def test_estimate_prints_the_designs_detectable_difference_from_a_pilot_sd(tiny_file, capsys):
    from alnb.analysis.stats import detectable_difference

    raw = {
        **TINY,
        "al": {
            **TINY["al"],
            "seeds": list(range(10)),
            "inits": ["random", "kmeans_equal", "kmeans_prop", "balanced_random"],
        },
    }
    tiny_file.write_text(yaml.safe_dump(raw))
    assert main(["estimate", str(tiny_file), "--pilot-sd", "0.023"]) == 0
    out = capsys.readouterr().out
    # 2 guided pools (the oracle and random are not in the primary family): level α/2, 10 seeds
    primary = next(line for line in out.splitlines() if line.startswith("primary"))
    assert primary.split()[-4:] == ["2", "10", "0.0250", f"{detectable_difference(0.023, 10, 0.025):.4f}"]
    assert "needs 16 seeds at this SD (the design has 10)" in out and "misses the target" in out
    assert main(["estimate", str(tiny_file), "--pilot-sd", "-1"]) == 2


def test_the_statistics_doc_design_command_runs_as_written(capsys, monkeypatch):
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "statistics.md").read_text()
    command = re.search(r"`python -m alnb (estimate [^`]*)`", text).group(1).split()
    monkeypatch.chdir(root)
    assert main(command) == 0
    assert "the primary family meets the target" in capsys.readouterr().out


def test_estimate_counts_question_3s_pool_types_with_the_random_query(tiny_file):
    tiny_file.write_text(yaml.safe_dump({**TINY, "pools": {"extra_inits": ["kmeans_prop", "kmeans_equal"]}}))
    grids = {g.name: g for g in estimate(load_params(tiny_file))[0]}
    types = grids["pool types, random query"]
    assert types.trials == 1 and types.trainings == 3  # kmeans_prop only: kmeans_equal ran the random query already
    assert types.train_images == 3 * (300 + 300 + 400)  # one model per cycle, as counted by hand above


def test_estimate_counts_every_ablation_of_notebook_04(tiny_file):
    ablations = {
        "model_inits": ["rotation"],
        "binned_tasks": ["rotation"],
        "bins": [2, 5],
        "allocations": ["kmeans"],
        "low_budget": {"initial_size": 10, "budget": 10, "cycles": 4},
        "inits": ["random"],
        "queries": ["random"],
        "seeds": [0, 1],
    }
    raw = {**TINY, "pretext": {"tasks": ["rotation"]}, "ablations": ablations}
    tiny_file.write_text(yaml.safe_dump(raw))
    grids = {g.name: g for g in estimate(load_params(tiny_file))[0]}
    assert grids["ablation backbone rotation"].trials == 2
    assert grids["ablation binned and top-B"].trials == 2 * 4  # random, rotation, rotation_bin2, rotation_bin5
    assert grids["ablation allocations"].trials == 2 * 3  # random, kmeans_equal, kmeans_prop
    low = grids["ablation low budget"]
    assert low.trials == 2 and low.trainings == 2 * 5  # its own 4 cycles, one model each
    # labeled 10, 20, ..., 50 → each epoch repeats them to ≥ 256 images: 260, 260, 270, 280, 300; 3 epochs each
    assert low.train_images == 2 * 3 * (260 + 260 + 270 + 280 + 300)
    assert grids["pretext models"].trainings == 2  # the ablation seeds 0, 1 (the main grid's 0 among them)


def test_estimate_leaves_out_the_main_grids_trials_that_the_pool_ablations_copy(tiny_file):
    ablations = {"allocations": ["kmeans"], "binned_tasks": ["rotation"], "bins": [2], "queries": ["random"]}
    raw = {**TINY, "pretext": {"tasks": ["rotation"]}, "ablations": {**ablations, "seeds": [0]}}
    tiny_file.write_text(yaml.safe_dump(raw))
    grids = {g.name: g for g in estimate(load_params(tiny_file))[0]}
    assert grids["ablation allocations"].trials == 1  # kmeans_prop: random and kmeans_equal are main-grid trials
    assert grids["ablation binned and top-B"].trials == 2  # rotation, rotation_bin2: random is a main-grid trial


def test_an_oracle_reference_on_fewer_seeds_is_counted_on_those(tiny_file):
    raw = {
        **TINY,
        "al": {**TINY["al"], "seeds": [0, 1, 2], "inits": ["random", "balanced_random"], "queries": ["random"]},
        "pools": {"oracle_seeds": [1]},
    }
    tiny_file.write_text(yaml.safe_dump(raw))
    main_grid = estimate(load_params(tiny_file))[0][0]
    assert main_grid.trials == 3 + 1  # random on the 3 seeds, the oracle on seed 1 only
