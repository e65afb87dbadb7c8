"""Study parameters: one YAML file describes a whole study; it is checked completely before any compute.

Every section is a frozen dataclass whose fields are the valid keys and whose annotations are the
valid types. ``alnb.run.validation.load_params`` reports the first problem as one :class:`ParamsError` line naming the
key, the value and the valid choices. Relative paths in a params file (``run_dir``, ``data.root``, ``data.cache_dir``)
are resolved against the project root: the nearest folder above the file holding ``pyproject.toml``, else the
checkout of alnb. ``alnb study`` resolves it once and hands it to its notebook kernels (``ALNB_PROJECT_ROOT``), so
the command and every kernel write to the same absolute run directory whatever their current folder.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT_ENV = "ALNB_PROJECT_ROOT"  # the project root of the study a command runs, for its kernels
NOTEBOOK_ENV = "ALNB_NOTEBOOK"  # the notebook a study's kernel runs (names its saved figures)
PRECISIONS = ("fp32", "bf16")  # training.precision: full precision, or bfloat16 autocast


class ParamsError(ValueError):
    """A params file is unreadable or invalid; the message names the key and the valid choices."""


@dataclass(frozen=True)
class DataParams:
    """``verify``: compare the files with the md5 sums torchvision publishes for its releases (mnist, cifar).
    ``image_size``: the side (pixels) to which an ``imagefolder``'s images are resized; its ``root`` is the
    folder holding ``train/<class>/`` (and optionally ``test/<class>/``); its decoded arrays are cached in
    ``cache_dir`` (default: the user's cache folder, ``$XDG_CACHE_HOME/alnb`` or ``~/.cache/alnb``), never in
    ``root``. ``train_subset``: keep only this many train images (a count, or a fraction), stratified by class
    and drawn with a fixed seed, e.g. to fit a CPU's hour."""

    dataset: str = "digits"
    root: str = "data"
    download: bool = False
    val_size: int | float = 0.1
    test_size: int | float = 0.25
    imbalance_factor: float | None = None
    image_size: int | None = None
    verify: bool = False
    train_subset: int | float | None = None
    cache_dir: str | None = None


@dataclass(frozen=True)
class ModelParams:
    """``init``: where the classifier's backbone starts at every cycle: ``scratch`` (its seeded initialisation)
    or a self-supervised model of ``pretext.tasks`` trained on U (Siméoni et al., ICPR 2020); the head
    always starts from the seed."""

    arch: str = "auto"
    dropout: float = 0.3
    init: str = "scratch"


@dataclass(frozen=True)
class TrainingParams:
    """``random_resized_crop``: the side of the random-resized crops of training batches (e.g. 224 for
    TinyImageNet, after which flips apply); evaluation then sees whole images resized to it.
    ``precision``: ``fp32``, or ``bf16`` to run forward passes under autocast (mainly for GPUs).
    ``eval_batch_size``: batch of validation, test and scoring passes; by default 1,024 on a GPU and 128 on
    a CPU, where larger batches fall out of the caches (1,024 measured 3× slower than 64-128)."""

    optimizer: str = "adam"
    lr: float = 5e-4
    weight_decay: float = 0.0
    momentum: float = 0.9
    batch_size: int = 64
    max_epochs: int = 100
    patience: int = 10
    min_samples_per_epoch: int = 1024
    hflip: bool | None = None
    random_resized_crop: int | None = None
    eval_batch_size: int | None = None
    precision: str = "fp32"


@dataclass(frozen=True)
class ALParams:
    initial_size: int | float = 0.05
    budget: int | float = 0.1
    cycles: int = 5
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    inits: list[str] = field(default_factory=lambda: ["random"])
    queries: list[str] = field(default_factory=lambda: ["random"])
    mc_passes: int = 25
    query_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutorParams:
    """``threads``: torch CPU threads per job (default: the cores divided by ``n_jobs``; on Ray ``num_cpus``).
    Ray only: ``address`` of a cluster (default: ``RAY_ADDRESS``, else a local Ray), and the CPUs and GPUs that
    each trial holds (``num_cpus``, default its threads; ``num_gpus``, default 0)."""

    kind: str = "serial"
    n_jobs: int = 1
    threads: int | None = None
    address: str | None = None
    num_cpus: float | None = None
    num_gpus: float = 0.0


@dataclass(frozen=True)
class PretextParams:
    """``settings`` maps a task to its training settings (epochs, batch_size, lr, weight_decay) and model
    options (e.g. ``latent_dim``); what is not given takes the task's defaults."""

    tasks: list[str] = field(default_factory=list)
    arch: str = "auto"
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolParams:
    """``extra_inits`` are built and shown in notebook 02 beside ``al.inits``, and run through AL with the random
    query only, for question 3's pool types (:func:`alnb.run.substudies.pool_type_runs`), on ``type_seeds``
    (a subset of ``al.seeds``; default: all of them). The oracle references of ``al.inits`` (``balanced_random``:
    they read the labels, so no family tests them) run on ``oracle_seeds`` only (a subset of ``al.seeds``;
    default: all of them)."""

    extra_inits: list[str] = field(default_factory=list)
    type_seeds: list[int] | None = None
    oracle_seeds: list[int] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AblationParams:
    """The sub-studies of notebook 04, each against ``random`` with ``queries`` and ``seeds``:

    ``initial_sizes`` (``inits`` at each initial pool size); ``model_inits`` (``inits`` with each backbone
    initialisation: ``scratch`` or a self-supervised model, see ``ModelParams.init``); ``binned_tasks``
    (each pretext task's top-B pool against its binned pools ``<task>_bin<n>`` for n in ``bins``);
    ``allocations`` (each clustering, e.g. ``kmeans`` or ``deepcluster``, with equal against proportional
    allocation); ``low_budget`` (``inits`` with ``al`` overrides for a low-budget regime, e.g.
    ``{initial_size: 10, budget: 10, cycles: 8}``). An empty list or mapping skips that sub-study.
    """

    initial_sizes: list[int | float] = field(default_factory=list)
    model_inits: list[str] = field(default_factory=list)
    binned_tasks: list[str] = field(default_factory=list)
    bins: list[int] = field(default_factory=lambda: [2, 5, 10])
    allocations: list[str] = field(default_factory=list)
    low_budget: dict[str, Any] = field(default_factory=dict)
    inits: list[str] = field(default_factory=lambda: ["random"])
    queries: list[str] = field(default_factory=lambda: ["random"])
    seeds: list[int] | None = None

    def binned_pools(self, tasks: list[str] | None = None) -> list[str]:
        """Each of ``tasks`` (default: ``binned_tasks``): its top-B pool, then its binned pools."""
        tasks = self.binned_tasks if tasks is None else tasks
        return [name for task in tasks for name in (task, *(f"{task}_bin{n}" for n in self.bins))]

    def allocation_pools(self, clusterings: list[str] | None = None) -> list[str]:
        """Each of ``clusterings`` (default: ``allocations``) with equal, then with proportional allocation."""
        clusterings = self.allocations if clusterings is None else clusterings
        return [f"{c}_{a}" for c in clusterings for a in ("equal", "prop")]


@dataclass(frozen=True)
class ImbalanceParams:
    imbalance_factors: list[float] = field(default_factory=list)
    inits: list[str] = field(default_factory=lambda: ["random"])
    queries: list[str] = field(default_factory=lambda: ["random"])
    seeds: list[int] | None = None


@dataclass(frozen=True)
class VisualizationParams:
    """``compare_run_dir``: the run directory of a second study (e.g. MNIST against TinyImageNet) whose
    clustering pools notebook 06 compares with this study's."""

    method: str = "tsne"
    max_points: int = 2000
    compare_run_dir: str | None = None


@dataclass(frozen=True)
class ReplicationParams:
    """Where a study stands in a replication's synthesis (``alnb replicate``): ``dataset``, its row label, and
    ``regime``, the budget regime whose studies are pooled together. Both empty outside a replication."""

    dataset: str | None = None
    regime: str | None = None


@dataclass(frozen=True)
class StudyParams:
    study: str = "default"
    description: str = ""
    run_dir: str | None = None
    device: str = "auto"
    data: DataParams = field(default_factory=DataParams)
    model: ModelParams = field(default_factory=ModelParams)
    training: TrainingParams = field(default_factory=TrainingParams)
    al: ALParams = field(default_factory=ALParams)
    executor: ExecutorParams = field(default_factory=ExecutorParams)
    pretext: PretextParams = field(default_factory=PretextParams)
    pools: PoolParams = field(default_factory=PoolParams)
    ablations: AblationParams = field(default_factory=AblationParams)
    imbalance: ImbalanceParams = field(default_factory=ImbalanceParams)
    visualization: VisualizationParams = field(default_factory=VisualizationParams)
    replication: ReplicationParams = field(default_factory=ReplicationParams)
    project_root: str = field(default=".", metadata={"internal": True})

    @property
    def run_path(self) -> Path:
        path = Path(self.run_dir) if self.run_dir else Path("runs") / self.study
        return path if path.is_absolute() else Path(self.project_root) / path

    @property
    def data_root(self) -> Path:
        root = Path(self.data.root)
        return root if root.is_absolute() else Path(self.project_root) / root

    @property
    def cache_path(self) -> Path | None:
        """``data.cache_dir`` (relative: to the project root), or None for the user's cache folder."""
        if self.data.cache_dir is None:
            return None
        path = Path(self.data.cache_dir).expanduser()
        return path if path.is_absolute() else Path(self.project_root) / path

    def pool_type_trials(self) -> tuple[list[str], list[int]]:
        """Question 3's pool-type runs (random query) beyond the main grid: the pools the study builds whose
        random-query trials the main grid does not already hold, and ``pools.type_seeds`` (default ``al.seeds``)."""
        reused = self.al.inits if "random" in self.al.queries else []
        built = dict.fromkeys([*self.al.inits, *self.pools.extra_inits])
        return [init for init in built if init not in reused], self.pools.type_seeds or self.al.seeds

    def replace(self, **sections: dict[str, Any]) -> StudyParams:
        """A copy with some fields of some sections overridden, e.g. ``replace(al={"cycles": 2})``."""
        changes = {}
        for name, value in sections.items():
            current = getattr(self, name)
            changes[name] = dataclasses.replace(current, **value) if dataclasses.is_dataclass(current) else value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------- parsing


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a mapping"
    return {type(None): "null", int: "an integer", float: "a number", str: "a string", bool: "true/false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin is list:
        return isinstance(value, list) and all(_matches(v, typing.get_args(tp)[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def _number_hint(value: Any, tp: Any) -> str:
    """YAML 1.1 reads ``1e-3`` (no dot) as text: say so when a number was meant."""
    if isinstance(value, str) and "number" in _type_name(tp):
        try:
            float(value)
        except ValueError:
            return ""
        return f" (YAML reads {value} as text; write it with a dot, e.g. 1.0e-3)"
    return ""


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ParamsError(f"{prefix.rstrip('.') or 'params'}: expected a mapping of keys, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    values = {}
    for key, value in raw.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ";"
            raise ParamsError(f"{prefix}{key}: unknown key{hint} valid keys: {', '.join(fields)}")
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            values[key] = _build(tp, value if value is not None else {}, f"{prefix}{key}.")
        elif not _matches(value, tp):
            raise ParamsError(f"{prefix}{key}: expected {_type_name(tp)}, got {value!r}{_number_hint(value, tp)}")
        else:
            values[key] = float(value) if tp is float else value
    return cls(**values)


def build_params(raw: dict[str, Any], project_root: str | Path = ".") -> StudyParams:
    """Parameters from a mapping (as read from YAML), typed and complete but not yet checked for meaning
    (``alnb.run.validation.params_from_dict`` checks them)."""
    params = _build(StudyParams, raw, "")
    return dataclasses.replace(params, project_root=str(Path(project_root).resolve()))


def find_project_root(start: Path) -> Path:
    """The root handed down by the command running the study (``ALNB_PROJECT_ROOT``); else the nearest folder at or
    above ``start`` holding ``pyproject.toml``; else this checkout of alnb (``alnb/core/config.py`` → the checkout);
    else the current folder (alnb installed without a checkout)."""
    if os.environ.get(PROJECT_ROOT_ENV):
        return Path(os.environ[PROJECT_ROOT_ENV])
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file():
            return folder
    package_checkout = Path(__file__).resolve().parents[2]
    return package_checkout if (package_checkout / "pyproject.toml").is_file() else Path.cwd()


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error, not a silent override."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_error(err: Exception) -> str:
    """One line: YAML's problem and where it is, or the OS / decoding error."""
    mark = getattr(err, "problem_mark", None)
    if isinstance(err, yaml.YAMLError) and mark is not None:
        return f"{getattr(err, 'problem', None) or 'invalid YAML'} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(err).split())


def read_params(path: str | Path) -> tuple[dict[str, Any], Path]:
    """The raw mapping of a YAML params file and its project root; one clear error for an unreadable file."""
    path = Path(path)
    if path.is_dir():
        raise ParamsError(f"params: {str(path)!r} is a directory, not a params file")
    if not path.is_file():
        raise ParamsError(f"params: file {str(path)!r} does not exist")
    try:
        raw = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ParamsError(f"params: cannot read {str(path)!r}: {_read_error(err)}") from None
    if raw is None or raw == {}:
        raise ParamsError(
            f"params: {str(path)!r} is empty; a params file names at least its study "
            f"(e.g. 'study: my_study'; params/default.yaml is the default study)"
        )
    return raw, find_project_root(path.resolve().parent)
