"""The lock file pins every dependency of pyproject.toml to one exact version that pyproject allows, for the
running Python and platform, and environment.yml lists every dependency and installs the lock."""

import re
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]


def _locked() -> dict[str, str]:
    """Name → the exact version the lock pins for this interpreter and platform."""
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)(?:\s*;\s*(.+))?$", line.strip())
        if match and (match[3] is None or Marker(match[3]).evaluate()):
            name = canonicalize_name(match[1])
            assert name not in pins, f"requirements.lock pins {name} twice for this interpreter"
            pins[name] = match[2]
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in [*project["dependencies"], *extras["test"], *extras["ray"], *extras["encoders"]]]


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range():
    pins = _locked()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"requirements.lock lacks {requirement.name}: regenerate it (see its header)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {requirement}"
        )
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_environment_yml_lists_every_dependency_and_installs_the_lock():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = {canonicalize_name(re.split(r"[<>=!~ ]", d)[0]) for d in environment["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed |= {canonicalize_name(re.split(r"[<>=!~ ]", d)[0]) for d in pip}
    runtime = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    missing = [r.name for r in runtime if canonicalize_name(r.name) not in listed]
    assert not missing, f"environment.yml lacks {missing}"
    assert "-r requirements.lock" in pip
