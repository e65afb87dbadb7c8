"""Every benchmark script imports (its alnb imports resolve after a move) and the code it runs in a child process
parses: `make bench` runs rarely, so a broken line there would otherwise wait for its next run."""

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCHMARKS.glob("*.py")))
def test_benchmark_imports_and_its_child_code_parses(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module(name)
    for attribute, value in vars(module).items():
        if attribute.endswith("_CHILD") and isinstance(value, str):
            tree = ast.parse(value)
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("alnb"):
                    imported = importlib.import_module(node.module)
                    assert all(
                        hasattr(imported, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}")
                        for alias in node.names
                    ), f"{name}.{attribute}: from {node.module} import {[a.name for a in node.names]}"
    sys.modules.pop(name, None)
