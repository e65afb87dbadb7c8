"""A params file is checked completely before anything runs: one clear line naming the key, nothing written.

Most files are checked in-process through ``load_params``; the key cases also go through the command line's
``main``, and one valid file through a subprocess (``python -m alnb check FILE``), as ``make check`` runs it.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alnb.__main__ import main, select_notebooks
from alnb.core.config import ParamsError
from alnb.report.render import NOTEBOOKS
from alnb.run.validation import load_params

REPO = Path(__file__).resolve().parents[1]

# (YAML body, regex the single-line message must match). Every file also gets ``run_dir`` set to a tmp folder.
BAD_FILES = [
    ("trainig:\n  lr: 0.001\n", r"^trainig: unknown key; did you mean 'training'\? valid keys: study, "),
    ("al:\n  budgte: 3\n", r"^al\.budgte: unknown key; did you mean 'budget'\? valid keys: initial_size, budget"),
    ("al:\n  zzz: 3\n", r"^al\.zzz: unknown key; valid keys: initial_size, "),
    (
        "data:\n  dataset: cifar11\n",
        r"^data\.dataset: unknown name 'cifar11'; did you mean 'cifar10'\? valid: .*digits",
    ),
    (
        "al:\n  inits: [random, rotaton]\n",
        r"^al\.inits: unknown name 'rotaton'; did you mean 'rotation'\? valid: .*random",
    ),
    ("al:\n  queries: [entropi]\n", r"^al\.queries: unknown name 'entropi'; did you mean 'entropy'\? valid: .*margin"),
    ("ablations:\n  queries: [marginn]\n", r"^ablations\.queries: unknown name 'marginn'; did you mean 'margin'\?"),
    ("imbalance:\n  inits: [rnd]\n", r"^imbalance\.inits: unknown name 'rnd'"),
    (
        "pools:\n  extra_inits: [vae_bin1]\npretext:\n  tasks: [vae]\n",
        r"^pools\.extra_inits: 'vae_bin1' needs at least 2 bins",
    ),
    (
        "pools:\n  extra_inits: [vae]\n",
        r"^pools\.extra_inits: 'vae' needs the self-supervised model 'vae'; add it to pretext\.tasks",
    ),
    (
        "al:\n  initial_size: 500\n  budget: 200\n  cycles: 5\n",
        r"^al\.initial_size: initial pool 500 \+ al\.cycles 5 × al\.budget 200 = 1500 exceeds the unlabeled pool of \d+",
    ),
    ("ablations:\n  initial_sizes: [20, 5000]\n", r"^ablations\.initial_sizes: initial pool 5000 \+ al\.cycles"),
    (
        "al:\n  initial_size: 20\n  budget: 30\n  cycles: 10\nimbalance:\n  imbalance_factors: [100]\n",
        r"^imbalance\.imbalance_factors: initial pool 20 \+ al\.cycles 10 × al\.budget 30 = 320 exceeds .* factor 100",
    ),
    ("al:\n  budget: 0\n", r"^al\.budget: must be a positive count, got 0$"),
    ("al:\n  initial_size: -5\n", r"^al\.initial_size: must be a positive count, got -5$"),
    ("al:\n  budget: 1.5\n", r"^al\.budget: a fraction must lie in \(0, 1\], got 1\.5$"),
    ("data:\n  val_size: 0.0\n", r"^data\.val_size: a fraction must lie in \(0, 1\], got 0\.0$"),
    ("data:\n  test_size: -0.2\n", r"^data\.test_size: a fraction must lie in \(0, 1\], got -0\.2$"),
    ("al:\n  cycles: -1\n", r"^al\.cycles: must be >= 0, got -1$"),
    ("al:\n  cycles: five\n", r"^al\.cycles: expected an integer, got 'five'$"),
    ("al:\n  seeds: [0, 0]\n", r"^al\.seeds: seeds must be distinct, got \[0, 0\]$"),
    ("training:\n  lr: 1e-3\n", r"^training\.lr: expected a number, got '1e-3' \(YAML reads 1e-3 as text"),
    ("training:\n  batch_size: 0\n", r"^training\.batch_size: must be positive, got 0$"),
    ("training:\n  momentum: 1.5\n", r"^training\.momentum: must lie in \[0, 1\), got 1\.5$"),
    ("model:\n  dropout: 1.0\n", r"^model\.dropout: must lie in \[0, 1\), got 1\.0$"),
    ("executor:\n  kind: threads\n", r"^executor\.kind: unknown name 'threads';? valid: processes, ray, serial$"),
    ("executor:\n  n_jobs: 0\n", r"^executor\.n_jobs: must be at least 1, got 0$"),
    ("visualization:\n  method: tsn\n", r"^visualization\.method: unknown name 'tsn'; did you mean 'tsne'\?"),
    ("pretext:\n  tasks: [rotation, rotation]\n", r"^pretext\.tasks: 'rotation' is listed twice$"),
    ("pretext:\n  settings:\n    vea: {epochs: 2}\n", r"^pretext\.settings: unknown name 'vea'; did you mean 'vae'\?"),
    (
        "pretext:\n  settings:\n    vae: {epocs: 2}\n",
        r"^pretext\.settings\.vae: unknown name 'epocs'; did you mean 'epochs'\? valid: .*latent_dim",
    ),
    (
        "pretext:\n  settings:\n    vae: {latent_dim: 0}\n",
        r"^pretext\.settings\.vae\.latent_dim: must lie in \[1, ∞\), got 0$",
    ),
    (
        "pretext:\n  settings:\n    deepcluster: {augment: 1}\n",
        r"^pretext\.settings\.deepcluster\.augment: expected true/false, got 1$",
    ),
    (
        "pretext:\n  settings:\n    rotation: {weight_decay: -1.0}\n",
        r"^pretext\.settings\.rotation\.weight_decay: must lie in \[0, ∞\), got -1\.0$",
    ),
    ("data:\n  imbalance_factor: 1000.0\n", r"^data\.imbalance_factor: must lie in \[1, \d+\] .*got 1000$"),
    (
        "data:\n  dataset: cifar10\n  root: {missing}\n",
        r"^data\.root: cifar10 is not on disk and data\.download is false\. Expected in .*cifar-10-batches-py: data_batch_1",
    ),
    (
        "data:\n  dataset: tinyimagenet\n  root: {missing}\n  download: true\n",
        r"^data\.root: tinyimagenet is not on disk and cannot be downloaded\. Expected in .*tiny-imagenet-200: wnids",
    ),
    ("data:\n  test_size: 1.0\n", r"^data\.test_size: 1\.0 leaves no train image \(digits has 1797 images\)$"),
    (
        "replication:\n  dataset: mnist\n",
        r"^replication\.regime: missing; a replication study names both its dataset .* and its regime",
    ),
    ("replication:\n  dataset: MNIST full\n  regime: plan\n", r"^replication\.dataset: 'MNIST full' must be a short"),
    (
        "replication:\n  regme: plan\n",
        r"^replication\.regme: unknown key; did you mean 'regime'\? valid keys: dataset, regime$",
    ),
    ("device: gpu\n", r"^device: 'gpu' is not one of auto, cpu, cuda, cuda:N, mps$"),
    ("al: [1, 2]\n", r"^al: expected a mapping of keys, got \[1, 2\]$"),
    ("- random\n- entropy\n", r"^params: expected a mapping of keys, got \['random', 'entropy'\]$"),
    ("al:\n  budget: 3\n  budget: 4\n", r"^params: cannot read '.*': key 'budget' is given twice at line 4, column 3$"),
    ("al: [1, 2\nfoo: bar\n", r"^params: cannot read '.*': .* at line \d+, column \d+$"),
]


def write_params(folder: Path, body: str, name: str = "params.yaml") -> Path:
    """A params file whose run directory is ``folder/run`` (which must never be created)."""
    body = body.replace("{missing}", str(folder / "no_data_here"))
    path = folder / name
    run_dir = f"run_dir: {folder / 'run'}\n"
    path.write_text(body if body.startswith("- ") else run_dir + body)
    return path


@pytest.mark.parametrize("body,message", BAD_FILES, ids=[m.strip("^").split(":")[0] for _, m in BAD_FILES])
def test_bad_params_file_gives_one_line_naming_the_key(tmp_path, body, message):
    path = write_params(tmp_path, body)
    with pytest.raises(ParamsError, match=message) as info:
        load_params(path)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()


def test_unreadable_params_files(tmp_path):
    with pytest.raises(ParamsError, match=r"^params: file '.*nope\.yaml' does not exist$"):
        load_params(tmp_path / "nope.yaml")
    with pytest.raises(ParamsError, match=r"^params: '.*' is a directory, not a params file$"):
        load_params(tmp_path)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00al: 3")
    with pytest.raises(ParamsError, match=r"^params: cannot read '.*binary\.yaml': 'utf-8' codec can't decode"):
        load_params(binary)


def test_valid_file_loads_without_creating_the_run_dir(tmp_path):
    path = write_params(
        tmp_path, "al:\n  initial_size: 20\n  budget: 10\n  cycles: 2\n  seeds: [3]\ntraining:\n  lr: 1.0e-3\n"
    )
    params = load_params(path)
    assert params.al.seeds == [3] and params.training.lr == 1e-3 and params.run_path == tmp_path / "run"
    assert not (tmp_path / "run").exists()


def test_only_selects_notebooks_by_number_or_name():
    assert select_notebooks(NOTEBOOKS, None) == NOTEBOOKS
    assert select_notebooks(NOTEBOOKS, ["03", "01_pretext_training"]) == ("01_pretext_training", "03_al_runs")
    with pytest.raises(ValueError, match=r"^--only: unknown notebook '07'; valid: 01, 02, 03, 04, 05, 06"):
        select_notebooks(NOTEBOOKS, ["02", "07"])


# ----------------------------------------------------------------------------- through the command line

CLI_CASES = [  # (args after the file, YAML body or None for a missing file, regex of the one stderr line)
    (["study"], "al:\n  budgte: 3\n", r"^alnb: invalid params: al\.budgte: unknown key; did you mean 'budget'\?"),
    (["study"], "al:\n  queries: [entropy, bald_]\n", r"^alnb: invalid params: al\.queries: unknown name 'bald_'"),
    (
        ["study"],
        "al:\n  initial_size: 500\n  budget: 200\n  cycles: 5\n",
        r"^alnb: invalid params: al\.initial_size: initial pool 500 .* exceeds the unlabeled pool",
    ),
    (
        ["study"],
        "data:\n  dataset: mnist\n  root: {missing}\n",
        r"^alnb: invalid params: data\.root: mnist is not on disk",
    ),
    (["study"], None, r"^alnb: invalid params: params: file '.*' does not exist$"),
    (["check"], "al: [1, 2\n", r"^alnb: invalid params: params: cannot read '.*' at line \d+, column \d+$"),
    (["study", "--only", "07"], "al:\n  cycles: 2\n", r"^alnb: invalid argument: --only: unknown notebook '07'"),
]


@pytest.mark.parametrize("args, body, message", CLI_CASES, ids=[m.split(":")[2].strip(" ^\\") for *_, m in CLI_CASES])
def test_command_line_rejects_bad_files_without_writing(tmp_path, capsys, args, body, message):
    """Exit status 2, one stderr line naming the key, no traceback, no run directory (in this process: the
    subprocess test below shows ``python -m alnb`` is this same ``main``)."""
    path = tmp_path / "missing.yaml" if body is None else write_params(tmp_path, body)
    assert main([args[0], str(path), *args[1:]]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_command_line_check_accepts_a_valid_file(tmp_path):
    path = write_params(
        tmp_path,
        textwrap.dedent("""\
        study: tiny
        al:
          initial_size: 20
          budget: 10
          cycles: 2
        """),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "alnb", "check", str(path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok (study 'tiny'" in proc.stdout and not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- declared options, defeating settings

OPTION_CASES = [
    (
        "al:\n  queries: [dbal]\n  query_options: {mc_pases: 10}\n",
        r"^al\.query_options: unknown name 'mc_pases'; did you mean 'mc_passes'\? valid: .*vaal_epochs",
    ),
    (
        "al:\n  queries: [vaal]\n  query_options: {vaal_epochs: 0}\n",
        r"^al\.query_options\.vaal_epochs: must lie in \(0, ∞\), got 0$",
    ),
    (
        "al:\n  queries: [vaal]\n  query_options: {vaal_latent_dim: 2.5}\n",
        r"^al\.query_options\.vaal_latent_dim: expected an integer, got 2\.5$",
    ),
    (
        "al:\n  queries: [entropy]\n  query_options: {vaal_epochs: 2}\n",
        r"^al\.query_options\.vaal_epochs: an option of vaal, which this study does not run$",
    ),
    (
        "al:\n  queries: [bald]\n  query_options: {mc_passes: 1}\n",
        r"^al\.query_options\.mc_passes: must lie in \[2, ∞\), got 1$",
    ),
    (
        "al:\n  queries: [bald]\n  mc_passes: 1\n",
        r"^al\.mc_passes: 'bald' compares MC-dropout passes, so it needs at least 2",
    ),
    (
        "model:\n  dropout: 0.0\nal:\n  queries: [entropy, dbal]\n",
        r"^al\.queries: 'dbal' samples MC dropout, but model\.dropout is 0: every pass would be the same network",
    ),
    (
        "model:\n  dropout: 0.0\nablations:\n  initial_sizes: [10]\n  queries: [bald]\n",
        r"^ablations\.queries: 'bald' samples MC dropout, but model\.dropout is 0",
    ),
    (
        "pools:\n  options: {withn: nearest}\n",
        r"^pools\.options: unknown name 'withn'; did you mean 'within'\? valid: .*purity_threshold",
    ),
    (
        "al:\n  inits: [kmeans_equal]\npools:\n  options: {within: middle}\n",
        r"^pools\.options\.within: unknown name 'middle'; valid: nearest, random$",
    ),
    (
        "al:\n  inits: [random]\npools:\n  options: {within: nearest}\n",
        r"^pools\.options\.within: an option of deepcluster, kmeans, which this study does not run$",
    ),
    (
        "al:\n  inits: [probcover_pca]\npools:\n  options: {purity_threshold: 1.5}\n",
        r"^pools\.options\.purity_threshold: must lie in \(0, 1\], got 1\.5$",
    ),
    (
        "al:\n  inits: [typiclust_pca]\npools:\n  options: {device: gpu}\n",
        r"^pools\.options\.device: 'gpu' is not one of auto, cpu, cuda\[:N\], mps$",
    ),
    (
        "al:\n  initial_size: 4\n  inits: [random, vae_bin5]\npretext:\n  tasks: [vae]\n",
        r"^al\.inits: 'vae_bin5' takes samples from each of its 5 bins, hardest to easiest, so it needs an initial pool "
        r"of at least 5; al\.initial_size gives 4$",
    ),
    (
        "ablations:\n  initial_sizes: [3]\n  inits: [rotation_bin10]\npretext:\n  tasks: [rotation]\n",
        r"^ablations\.inits: 'rotation_bin10' .* at least 10; ablations\.initial_sizes entry 3 gives 3$",
    ),
    (
        "data:\n  dataset: tinyimagenet\n  verify: true\n",
        r"^data\.verify: torchvision publishes no checksums of tinyimagenet",
    ),
]


@pytest.mark.parametrize("body,message", OPTION_CASES, ids=[m.strip("^").split(":")[0] for _, m in OPTION_CASES])
def test_options_and_defeating_settings_are_refused(tmp_path, body, message):
    path = write_params(tmp_path, body)
    with pytest.raises(ParamsError, match=message) as info:
        load_params(path)
    assert "\n" not in str(info.value) and not (tmp_path / "run").exists()


def test_declared_options_are_accepted(tmp_path):
    path = write_params(
        tmp_path,
        "al:\n  initial_size: 20\n  budget: 10\n  cycles: 2\n  queries: [bald, vaal]\n"
        "  query_options: {mc_passes: 5, vaal_epochs: 0.5, vaal_width: 8}\n"
        "  inits: [kmeans_equal, typiclust_pca, probcover_pca]\n"
        "pools:\n  options: {within: nearest, k_neighbors: 5, delta: 0.3, device: cpu}\n",
    )
    params = load_params(path)
    assert params.al.query_options["vaal_width"] == 8 and params.pools.options["delta"] == 0.3


@pytest.mark.parametrize("body", ["", "# only a comment\n", "{}\n"])
def test_empty_params_file_is_refused(tmp_path, body):
    path = tmp_path / "empty.yaml"
    path.write_text(body)
    with pytest.raises(ParamsError, match=r"^params: '.*empty\.yaml' is empty; a params file names at least its study"):
        load_params(path)


def test_every_option_a_method_reads_is_declared():
    """Each ``options.get("x")`` / ``options["x"]`` / ``options[f"vaal_..."]`` in the methods' source is declared."""
    from dataclasses import fields

    from alnb.methods.pools import declared_pool_options
    from alnb.methods.query.base import declared_query_options
    from alnb.methods.query.vaal import VaalConfig

    declared = {**declared_pool_options(), **declared_query_options()}
    read = set()
    for path in [
        *(REPO / "alnb" / "methods" / "query").glob("*.py"),
        *(REPO / "alnb" / "methods" / "pools").glob("*.py"),
    ]:
        read |= set(re.findall(r"options(?:\.get\(|\[)\"(\w+)\"", path.read_text()))
    assert read and read <= set(declared), read - set(declared)
    assert {f"vaal_{f.name}" for f in fields(VaalConfig)} <= set(declared)
    for name, pairs in declared.items():  # methods sharing an option name share its declaration
        assert len({option for _, option in pairs}) == 1, name


def test_the_options_doc_lists_every_option_with_its_methods():
    from alnb.methods.pools import declared_pool_options
    from alnb.methods.query.base import declared_query_options

    rows = [line for line in (REPO / "docs" / "options.md").read_text().splitlines() if line.startswith("| `")]
    for section, declared in (
        ("al.query_options", declared_query_options()),
        ("pools.options", declared_pool_options()),
    ):
        for name, pairs in declared.items():
            row = next((r for r in rows if f"| `{section}` | `{name}` |" in r), None)
            assert row is not None, name
            assert all(f"`{method}" in row.split("|")[1] for method, _ in pairs), (name, row)
