"""Question 3's pool types: AL with the random query from every pool a study builds, apart from the main grid."""

import pytest
from helpers import one_cycle_study

from alnb.run import substudies
from alnb.run.validation import params_from_dict

pytestmark = pytest.mark.slow  # a multi-trial study


def test_every_built_pool_runs_with_the_random_query_outside_the_main_grid(tmp_path):
    al = {"seeds": [0], "inits": ["random", "kmeans_equal"], "queries": ["random", "entropy"]}
    study = one_cycle_study(tmp_path, al, pools={"extra_inits": ["kmeans_prop", "balanced_random"]})
    params = study.params
    main = study.grid.run(progress=False)
    table = substudies.pool_type_runs(study, progress=False)
    assert set(table["init"]) == {"random", "kmeans_equal", "kmeans_prop", "balanced_random"}
    assert set(table["query"]) == {"random"} and len(table) == 4 * 2  # 4 pools × 2 cycles, one seed
    assert set(study.store.results()["init"]) == set(main["init"]) == {"random", "kmeans_equal"}  # main grid untouched
    ran = sorted(p.name for p in (params.run_path / "pool_types" / "trials").iterdir())
    assert ran == ["digits__balanced_random__random__s0", "digits__kmeans_prop__random__s0"]  # nothing run twice


def test_the_extra_pool_types_run_on_type_seeds_only(tmp_path):
    study = one_cycle_study(
        tmp_path, {"seeds": [0, 1], "inits": ["random"]}, pools={"extra_inits": ["kmeans_equal"], "type_seeds": [1]}
    )
    study.grid.run(progress=False)
    table = substudies.pool_type_runs(study, progress=False)
    assert sorted(table.groupby("init")["seed"].unique().map(list).to_dict().items()) == [
        ("kmeans_equal", [1]),
        ("random", [0, 1]),  # the main grid's random-query trials are reused on all its seeds
    ]


@pytest.mark.parametrize(
    ("type_seeds", "message"),
    [([5], "pools.type_seeds: seed 5 is not in al.seeds"), ([], "pools.type_seeds: must list at least one seed")],
)
def test_type_seeds_outside_the_study_are_refused_by_name(tmp_path, type_seeds, message):
    from alnb.core.config import ParamsError

    raw = {
        "study": "bad",
        "al": {"seeds": [0, 1]},
        "pools": {"extra_inits": ["kmeans_equal"], "type_seeds": type_seeds},
    }
    with pytest.raises(ParamsError, match=message):
        params_from_dict(raw, tmp_path)
