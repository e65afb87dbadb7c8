"""The docs stay true: docs/methods.md's "Adding a method of your own" example runs as written (a new pool and a
new query method in a study)."""

import re
from pathlib import Path

from alnb.methods.pools import base as pool_base
from alnb.methods.query import base as query_base

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_methods_doc_example_registers_and_runs_new_methods(tmp_path, monkeypatch, capsys):
    # the example registers into copies of the registries, so the other tests see the built-in methods only
    monkeypatch.setattr(pool_base, "POOL_FAMILIES", list(pool_base.POOL_FAMILIES))
    monkeypatch.setattr(query_base, "QUERY_METHODS", dict(query_base.QUERY_METHODS))
    section = (DOCS / "methods.md").read_text().split("## Adding a method of your own", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace('{"study": "my_methods",', f'{{"study": "my_methods", "run_dir": {str(tmp_path / "run")!r},')
    namespace = {}
    exec(compile(code, "docs/methods.md", "exec"), namespace)
    assert "farthest_first" in pool_base.pool_names() and "ratio" in query_base.QUERY_METHODS
    results = namespace["results"]
    assert set(zip(results["init"], results["query"])) == {
        (i, q) for i in ("random", "farthest_first") for q in ("margin", "ratio")
    }
    assert len(results) == 2 * 2 * 2 * 3 and results["n_labeled"].max() == 60
    assert "test_acc" in capsys.readouterr().out


# ----------------------------------------------------------------------------- every command the docs show

PAGES = [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]
COMMAND = re.compile(r"^(make |python -m alnb |python benchmarks/)")
# placeholders a reader replaces, and what a test puts in their place
PLACEHOLDERS = {
    "path/to/images": "FOLDER",
    "FOLDER": "FOLDER",
    "PARAMS": "params/quick.yaml",
    "params/x.yaml": "params/quick.yaml",
    "<folder>": "params/replication",
    "<dir>": "DIR",
    "FILE": "FILE",
    "DIR": "DIR",
    "CSV": "runs/default/results.csv",
}


def doc_commands() -> list[tuple[str, str]]:
    """(page, command) for every shell command a page shows: code-block lines and inline code that start with
    ``make``, ``python -m alnb`` or ``python benchmarks/``, up to a comment."""
    found = []
    for page in PAGES:
        text = page.read_text()
        blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S)
        lines = [line for block in blocks for line in re.sub(r"\\\n\s*", " ", block).splitlines()]
        lines += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
        for line in lines:
            for command in line.split("  #", 1)[0].split(" # ", 1)[0].split("&&"):
                if COMMAND.match(command.strip()):
                    found.append((page.name, command.strip()))
    return found


def _makefile_targets() -> set[str]:
    text = (DOCS.parent / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


def test_the_docs_show_commands_and_each_names_a_real_target_script_or_valid_arguments():
    """Every ``make`` target a page names exists; every ``python -m alnb`` command parses with alnb's own parser
    (so a renamed flag or subcommand fails here); every benchmark script a page runs exists and parses its
    arguments; every params file a command names exists."""
    import shlex
    import subprocess
    import sys

    from alnb.__main__ import build_parser

    commands = doc_commands()
    assert len(commands) >= 15, commands
    targets = _makefile_targets()
    for page, command in commands:
        words = shlex.split(command)
        for word in words:
            if word.startswith("params/") and word.endswith((".yaml", "/")) and "<" not in word:
                assert (DOCS.parent / word).exists(), f"{page}: `{command}` names {word}, which does not exist"
        if words[0] == "make":
            named = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert named and set(named) <= targets, f"{page}: `{command}`: unknown make target {named}"
        elif words[:3] == ["python", "-m", "alnb"]:
            args = [PLACEHOLDERS.get(w, w) for w in words[3:]]
            try:
                build_parser().parse_args(args)
            except SystemExit as exit:
                raise AssertionError(f"{page}: `{command}` does not parse (exit {exit.code})") from None
        else:  # python benchmarks/<script>.py ...: the script exists and accepts --help
            script = DOCS.parent / words[1]
            assert script.is_file(), f"{page}: `{command}`: {words[1]} does not exist"
            assert subprocess.run([sys.executable, script, "--help"], capture_output=True).returncode == 0, command


def test_the_cheap_commands_the_docs_show_run_as_written(capsys, monkeypatch):
    """The commands a reader runs first and that take seconds run as written, from the project root."""
    from alnb.__main__ import main

    monkeypatch.chdir(DOCS.parent)
    shown = {command for _, command in doc_commands()}
    for command in ("python -m alnb estimate params/cifar10.yaml", "python -m alnb check params/quick.yaml"):
        assert any(c.startswith(command) for c in shown) or command.endswith("quick.yaml"), command
        assert main(command.split()[3:]) == 0, command
    assert "GPU-hours" in capsys.readouterr().out
