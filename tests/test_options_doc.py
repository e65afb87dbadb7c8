"""docs/options.md is the options table rendered from the registries, and the registries' options are what
validation reads."""

import subprocess
import sys
from pathlib import Path

import pytest

from alnb.core.config import ParamsError
from alnb.methods.catalog import options_table
from alnb.run.validation import params_from_dict

DOC = Path(__file__).resolve().parents[1] / "docs" / "options.md"


def test_docs_options_is_the_table_generated_from_the_registries():
    assert DOC.read_text() == options_table(), (
        "docs/options.md is stale: regenerate it with python -m alnb.methods.catalog > docs/options.md"
    )


@pytest.mark.slow  # a subprocess
def test_the_command_in_docs_options_regenerates_it():
    printed = subprocess.run(
        [sys.executable, "-m", "alnb.methods.catalog"], capture_output=True, text=True, check=True, cwd=DOC.parents[1]
    ).stdout
    assert "python -m alnb.methods.catalog > docs/options.md" in DOC.read_text() and printed == DOC.read_text()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"simclr": {"crop_scale": [0.2, 1.5]}}, r"simclr\.crop_scale: every number must lie in \(0, 1\]"),
        ({"simclr": {"crop_scale": 0.5}}, r"simclr\.crop_scale: expected a list of 2 numbers"),
        ({"deepcluster": {"momentum": 1.0}}, r"deepcluster\.momentum: must lie in \[0, 1\), got 1\.0"),
        ({"deepcluster": {"augment": 1}}, r"deepcluster\.augment: expected true/false"),
        ({"rotation": {"latent_dim": 8}}, r"rotation: unknown name 'latent_dim'"),
    ],
)
def test_every_self_supervised_option_is_checked_from_its_declaration(settings, message):
    with pytest.raises(ParamsError, match=message):
        params_from_dict({"pretext": {"tasks": list(settings), "settings": settings}})
