"""``alnb select FOLDER --simulate``: would a guided first pool have helped on this kind of data?

FOLDER must hold class subfolders (``FOLDER/<class>/*.png|jpg``). It becomes an ``imagefolder`` study
(:mod:`alnb.data.imagefolder`; a ``train`` link to FOLDER in ``<out>/simulate/data``, so nothing is written into
FOLDER): random against the candidate methods as the initial pool of size B, then ``CYCLES`` cycles of B
random queries, ``SEEDS`` seeds, a small CNN, SimCLR trained as :func:`alnb.select.embeddings.encoder_settings`
sizes it. The study's notebooks 01-03 run it (papermill, as ``alnb study`` does) into ``<out>/simulate/``; the
verdict is the table of :func:`alnb.analysis.verdict.compute_verdict` on its results (AUBC gain over random, 95%
interval over seeds, Holm-corrected comparisons).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from alnb.select.embeddings import IMAGE_SIZE, encoder_settings

CANDIDATES = ("maxherding", "typiclust", "probcover", "kcenter")
SEEDS = (0, 1, 2)
CYCLES = 2
NOTEBOOKS = ("01_pretext_training", "02_initial_pools", "03_al_runs")


def simulation_folder(out: Path) -> Path:
    return Path(out).resolve() / "simulate"


def simulation_params(folder: Path, out: Path, budget: int, n_images: int, method: str) -> Path:
    """Write the small study's params file into ``<out>/simulate/`` and return its path."""
    root = simulation_folder(out)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    link = data / "train"
    if not link.is_symlink():
        link.symlink_to(Path(folder).resolve(), target_is_directory=True)
    settings = encoder_settings(n_images)
    inits = ["random", *dict.fromkeys([method, *CANDIDATES])]
    params = {
        "study": "select-simulate",
        "description": f"alnb select --simulate: random against {', '.join(inits[1:])} on the user's folder",
        "run_dir": str(root / "run"),
        "data": {
            "dataset": "imagefolder",
            "root": str(data),
            "image_size": IMAGE_SIZE,
            "val_size": 0.1,
            "test_size": 0.25,
        },
        "model": {"arch": settings["arch"], "dropout": 0.3},
        "training": {"lr": 1e-3, "batch_size": 64, "min_samples_per_epoch": 256, "max_epochs": 15, "patience": 4},
        "al": {
            "initial_size": budget,
            "budget": budget,
            "cycles": CYCLES,
            "seeds": list(SEEDS),
            "inits": inits,
            "queries": ["random"],
        },
        "pretext": {
            "tasks": ["simclr"],
            "arch": settings["arch"],
            "settings": {"simclr": {k: settings[k] for k in ("epochs", "batch_size", "lr")}},
        },
        "executor": {"kind": "serial", "threads": 1},
        "visualization": {"method": "pca", "max_points": 500},
    }
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run_simulation(folder: Path, out: Path, budget: int, n_images: int, method: str, log=print) -> Path:
    """Run the small study; returns its run folder (``results.csv`` inside)."""
    from alnb.report.render import run_study
    from alnb.run.validation import load_params

    params_path = simulation_params(folder, out, budget, n_images, method)
    log(
        f"[alnb select] simulating on the class folders: random against the candidates, {len(SEEDS)} seeds, "
        f"initial pool {budget} + {CYCLES} cycles of {budget}"
    )
    run_study(params_path, NOTEBOOKS, log=log, report_dir=simulation_folder(out) / "reports")
    return load_params(params_path).run_path


def simulation_verdict(out: Path):
    """The verdict table of the simulated study in ``<out>/simulate`` (None when it was not run)."""
    import pandas as pd

    from alnb.analysis.verdict import compute_verdict

    results = simulation_folder(out) / "run" / "results.csv"
    if not results.is_file():
        return None
    return compute_verdict(pd.read_csv(results)).table


def verdict_sentence(table) -> str:
    """One sentence from the verdict table, claiming no more than its intervals and Holm-corrected tests allow."""
    guided = table[table["kind"].isin(["self-supervised", "guided"])]
    if guided.empty:
        return "No candidate method was compared with random."
    best = guided.sort_values("mean_gain", ascending=False).iloc[0]
    seeds = int(best["seeds"])
    if best["outcome"] == "better":
        claim = "and beats random in the Holm-corrected primary test"
    elif best["ci_low"] > 0:
        claim = "and its 95% interval excludes 0, though the Holm-corrected primary test is not significant"
    elif best["ci_high"] < 0:
        claim = "but its 95% interval lies wholly below 0: on this folder no method is shown to beat random"
    else:
        claim = "but its 95% interval includes 0: on this folder no method is shown to beat random"
    return (
        f"The largest AUBC gain over random is {best['init']}'s, {best['mean_gain']:+.3f} "
        f"({best['ci_low']:+.3f} to {best['ci_high']:+.3f} over {seeds} seeds), {claim}."
    )
