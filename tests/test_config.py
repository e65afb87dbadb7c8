import pytest

from alnb.core.config import ParamsError
from alnb.run.validation import load_params, params_from_dict


def test_defaults_and_paper_protocol():
    p = params_from_dict({})
    assert p.training.optimizer == "adam" and p.training.lr == 5e-4
    assert p.al.initial_size == 0.05 and p.al.budget == 0.1 and p.al.seeds == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"trainig": {}}, r"trainig: unknown key; did you mean 'training'\?"),
        ({"al": {"budgte": 3}}, r"al.budgte: unknown key; did you mean 'budget'\?"),
        ({"al": {"cycles": "five"}}, r"al.cycles: expected an integer, got 'five'"),
        ({"al": {"queries": ["entropi"]}}, r"al.queries: unknown name 'entropi'; did you mean 'entropy'\?"),
        ({"al": {"initial_size": 1.5}}, r"al.initial_size: a fraction must lie in \(0, 1\]"),
        ({"al": {"initial_size": 500, "budget": 200, "cycles": 5}}, r"exceeds the unlabeled pool"),
        ({"data": {"dataset": "cifar11"}}, r"data.dataset: unknown name 'cifar11'; did you mean 'cifar10'\?"),
        ({"training": {"precision": "fp16"}}, r"training.precision: unknown name 'fp16'.*bf16"),
    ],
)
def test_invalid_params_name_the_key(raw, match):
    with pytest.raises(ParamsError, match=match):
        params_from_dict(raw)


def test_project_files_are_valid():
    for name in ("default", "quick"):
        params = load_params(f"params/{name}.yaml")
        assert params.study == name and params.run_path.name == name


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_every_params_file_is_valid(monkeypatch):
    """The paper-scale files name data that is not on this machine: only the data check is skipped."""
    from pathlib import Path

    monkeypatch.setattr("alnb.run.validation._check_data_on_disk", lambda params: None)
    files = sorted(Path("params").glob("*.yaml"))
    assert len(files) >= 6
    for path in files:
        params = load_params(path)
        assert params.study == path.stem
