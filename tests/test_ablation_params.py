"""The ablation sub-studies of notebook 04 are checked before anything runs, and name the inits they compare."""

import pytest

from alnb.core.config import ParamsError
from alnb.run.study import Study
from alnb.run.substudies import allocation_inits, binning_inits
from alnb.run.validation import params_from_dict


@pytest.mark.parametrize(
    "ablations, message",
    [
        ({"binned_tasks": ["vae"]}, r"ablations\.binned_tasks: unknown name 'vae'.*valid: rotation"),
        ({"bins": [1, 5]}, r"ablations\.bins: every number of bins must be an integer >= 2"),
        ({"allocations": ["kmeanz"]}, r"ablations\.allocations: 'kmeanz' is not a clustering"),
        ({"allocations": ["kmeans_simclr"]}, r"ablations\.allocations: 'kmeans_simclr_equal' needs .* 'simclr'"),
        ({"low_budget": {"budgets": 3}}, r"ablations\.low_budget: unknown name 'budgets'; did you mean 'budget'"),
        (
            {"low_budget": {"budget": 300, "cycles": 8}},
            r"ablations\.low_budget: initial pool .* exceeds the unlabeled pool",
        ),
        ({"low_budget": {"cycles": 0}}, r"ablations\.low_budget\.cycles: must be at least 1"),
    ],
)
def test_bad_ablations_are_refused_with_the_key(ablations, message):
    with pytest.raises(ParamsError, match=message):
        params_from_dict({"pretext": {"tasks": ["rotation"]}, "ablations": ablations})


def test_ablation_grids_compare_against_random():
    study = Study(
        params_from_dict(
            {
                "pretext": {"tasks": ["rotation", "deepcluster"]},
                "ablations": {
                    "binned_tasks": ["rotation"],
                    "bins": [2, 5],
                    "allocations": ["kmeans", "deepcluster"],
                    "low_budget": {"initial_size": 10, "budget": 10, "cycles": 6},
                },
            }
        )
    )
    assert binning_inits(study) == ["random", "rotation", "rotation_bin2", "rotation_bin5"]
    assert allocation_inits(study) == ["random", "kmeans_equal", "kmeans_prop", "deepcluster_equal", "deepcluster_prop"]
