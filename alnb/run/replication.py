"""A replication: a folder of params files, one study per dataset × budget regime, and the tables of their synthesis.

``load_replication(folder)`` reads and checks every ``*.yaml`` of the folder before anything runs: each names its
row (``replication: {dataset, regime}``), no two share a row, a study name or a run directory, and all use the
same initial pools and query methods, so that pooled estimates compare like with like. ``data_root`` points every
study at another data folder: the files are then run from resolved copies in ``runs/<folder>/params/``.
:func:`forecast` says what the folder costs before it runs; :func:`write_synthesis` writes
``runs/<folder>/synthesis_inputs.csv`` and ``synthesis.csv`` (:mod:`alnb.analysis.synthesis`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import yaml

from alnb.core.config import ParamsError, StudyParams, read_params
from alnb.core.durable import atomic_write_text

# The wall time of a study on 2 idle cores (2 jobs), from what `alnb estimate` counts. Per PFLOP of the estimate's
# upper bound: params/cifar10_cpu.yaml ran in 1,466 s wall and 2,600 CPU-s on 2 idle cores for 0.206 PFLOP and 305
# trainings, i.e. about 12,000 CPU-s per PFLOP once its trainings' overhead is taken off, 6,000 s of wall on 2 cores.
# Per training (data, model set-up, evaluation: what FLOPs miss on tiny images): the digits pilots of
# params/replication/ took 26-27 CPU-s for 45 trainings under load, about 0.4 CPU-s idle, 0.2 s of wall on 2 cores.
# Per study: six kernels, the pools and the maps, about a minute. A forecast, not a measurement.
SECONDS_PER_TRAINING = 0.2
SECONDS_PER_PFLOP = 6000.0
SECONDS_PER_STUDY = 60.0


@dataclass(frozen=True)
class ReplicationStudy:
    """One study of a replication: the params file it runs from (the original, or its resolved copy under
    ``DATA_ROOT``), the file it came from, and its checked parameters."""

    path: Path
    source: Path
    params: StudyParams

    @property
    def row(self) -> tuple[str, str]:
        return self.params.replication.dataset, self.params.replication.regime


def replication_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ParamsError(f"REPLICATION: {folder} is not a folder; give a folder of params files")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ParamsError(f"REPLICATION: {folder} holds no params file (*.yaml)")
    return files


def synthesis_dir(folder: str | Path, project_root: str | Path) -> Path:
    """``runs/<folder name>/`` of the project: the synthesis's tables (and resolved params copies)."""
    return Path(project_root) / "runs" / Path(folder).resolve().name


def _with_data_root(raw: dict, data_root: Path) -> dict:
    """A params file's contents with ``data.root`` set to ``data_root``."""
    return {**raw, "data": {**(raw.get("data") or {}), "root": str(data_root)}}


def _write_copy(source: Path, raw: dict, out_dir: Path) -> Path:
    """The resolved copy of ``source`` (contents ``raw``) in ``out_dir``, written atomically."""
    copy = out_dir / source.name
    atomic_write_text(
        copy, f"# {source.name} with data.root from DATA_ROOT (written by alnb replicate)\n" + yaml.safe_dump(raw)
    )
    return copy


def load_replication(folder: str | Path, data_root: str | Path | None = None, check_data: bool = True):
    """Every study of ``folder``, checked one by one and together (raises :class:`ParamsError` naming the file).
    With ``data_root``, the resolved copies are written only once every file has passed, so a refused folder
    leaves nothing behind."""
    from alnb.run.validation import check_data_files, params_from_dict

    files = replication_files(folder)
    studies, resolved = [], {}
    for source in files:
        try:
            raw, project_root = read_params(source)
            if data_root is not None:
                raw = resolved[source] = _with_data_root(raw, Path(data_root).resolve())
            params = params_from_dict(raw, project_root, check_data)
            if check_data:
                check_data_files(params)
        except ParamsError as err:
            raise ParamsError(f"{source.name}: {err}") from None
        studies.append(ReplicationStudy(source, source, params))
    _check_together(studies)
    if resolved:
        copies = synthesis_dir(folder, studies[0].params.project_root) / "params"
        studies = [replace(s, path=_write_copy(s.source, resolved[s.source], copies)) for s in studies]
    return studies


def _check_together(studies: list[ReplicationStudy]) -> None:
    """Rows named, distinct rows, names and run directories; the same pools and queries everywhere."""
    first = studies[0]
    seen: dict[object, str] = {}
    for study in studies:
        p, name = study.params, study.source.name
        if p.replication.dataset is None:
            raise ParamsError(
                f"{name}: replication: missing; a study of a replication names its row, e.g. "
                f"replication: {{dataset: mnist, regime: plan}}"
            )
        for what, value in (("replication", study.row), ("study", p.study), ("run directory", p.run_path)):
            other = seen.setdefault((what, value), name)
            if other != name:
                shown = "/".join(value) if what == "replication" else value
                raise ParamsError(f"{name}: {what} {shown} is also {other}'s; each study needs its own")
        for key in ("inits", "queries"):
            if getattr(p.al, key) != getattr(first.params.al, key):
                raise ParamsError(
                    f"{name}: al.{key} {getattr(p.al, key)} differs from {first.source.name}'s "
                    f"{getattr(first.params.al, key)}; the synthesis pools like with like, so every study of a "
                    f"replication runs the same"
                )


def forecast(studies: list[ReplicationStudy]) -> tuple[pd.DataFrame, str]:
    """Per study: trials, trainings and PFLOP (``alnb estimate``'s upper bound) and the forecast wall time on 2
    idle cores; with the total, as a table and as text."""
    from alnb.run.estimate import estimate

    rows = []
    for study in studies:
        grids, _ = estimate(study.params)
        trainings = sum(g.trainings for g in grids)
        pflop = sum(g.flops for g in grids) / 1e15
        seconds = SECONDS_PER_STUDY + SECONDS_PER_TRAINING * trainings + SECONDS_PER_PFLOP * pflop
        rows.append(
            {
                "study": study.params.study,
                "dataset": study.row[0],
                "regime": study.row[1],
                "seeds": len(study.params.al.seeds),
                "trials": sum(g.trials for g in grids),
                "trainings": trainings,
                "pflop": pflop,
                "forecast_min": seconds / 60,
            }
        )
    table = pd.DataFrame(rows)
    lines = [
        f"{'study':<28} {'seeds':>5} {'trials':>7} {'trainings':>10} {'PFLOP':>8} {'forecast':>9}",
        *(
            f"{r.study:<28} {r.seeds:>5} {r.trials:>7,} {r.trainings:>10,} {r.pflop:>8.3g} {r.forecast_min:>6.0f} min"
            for r in table.itertuples()
        ),
        f"{'total':<28} {'':>5} {table['trials'].sum():>7,} {table['trainings'].sum():>10,} "
        f"{table['pflop'].sum():>8.3g} {table['forecast_min'].sum():>6.0f} min",
        f"(forecast on 2 idle cores: {SECONDS_PER_STUDY:g} s per study + {SECONDS_PER_TRAINING:g} s per training + "
        f"{SECONDS_PER_PFLOP:g} s per PFLOP of the estimate's upper bound; finished trials are not run again)",
    ]
    return table, "\n".join(lines)


def study_inputs(study: ReplicationStudy) -> pd.DataFrame:
    """The synthesis inputs of one finished study (its ``results.csv``)."""
    from alnb.analysis.synthesis import study_gains
    from alnb.run.store import RunStore

    results = RunStore(study.params.run_path).results()
    return study_gains(results, study.params.study, *study.row)


def provenance_table(studies: list[ReplicationStudy]) -> pd.DataFrame:
    """Per study: the provenance of its run directory (the last record; ``runs``: how many distinct records)."""
    from alnb.run.provenance import provenance_line
    from alnb.run.store import RunStore

    rows = []
    for study in studies:
        records = RunStore(study.params.run_path).provenance()
        rows.append(
            {
                "study": study.params.study,
                "provenance": provenance_line(records[-1]) if records else "—",
                "environments": len(records),
            }
        )
    return pd.DataFrame(rows)


def write_synthesis(folder: str | Path, studies: list[ReplicationStudy]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute and write ``runs/<folder>/synthesis_inputs.csv`` and ``synthesis.csv``; returns both tables."""
    from alnb.analysis.synthesis import pool_gains
    from alnb.run.store import atomic_write_csv

    inputs = pd.concat([study_inputs(s) for s in studies], ignore_index=True)
    table = pool_gains(inputs)
    out = synthesis_dir(folder, studies[0].params.project_root)
    atomic_write_csv(inputs, out / "synthesis_inputs.csv")
    atomic_write_csv(table, out / "synthesis.csv")
    return inputs, table
