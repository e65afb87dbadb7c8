"""Recompute a replication's synthesis from each study's results.csv, independently of alnb's analysis code.

Reads only the params files of the folder (for each study's run directory and synthesis row) and the studies'
``results.csv``; computes every number with numpy and scipy from the definitions in docs/results.md (AUBC by the
trapezoid rule over the labeled range; the AL phase as the AUBC over cycles >= 1; the per-seed pool-level gain as
the paired difference to random averaged over the query methods; DerSimonian and Laird's random-effects estimate
by its closed form, tau^2 = max(0, .); Holm over the guided pools within each regime and phase), then compares
them with ``synthesis_inputs.csv`` and ``synthesis.csv``. Exit status 0 when every number matches.

    python tools/recompute_synthesis.py params/replication [--runs runs]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

ORACLES = ("balanced_random",)  # pools that read the labels: a reference, outside every family
TOLERANCE = 1e-9


def area(sizes: np.ndarray, accuracy: np.ndarray) -> float:
    """Area under the accuracy curve over the labeled range, divided by that range."""
    order = np.argsort(sizes)
    x, y = sizes[order].astype(float), accuracy[order].astype(float)
    if len(x) < 2 or x[-1] == x[0]:
        return float(y.mean())
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def trial_values(results: pd.DataFrame) -> pd.DataFrame:
    """Per trial (init, query, seed): the cycle-0 accuracy, the AL-phase AUBC and the AUBC."""
    rows = []
    for (init, query, seed), t in results.groupby(["init", "query", "seed"]):
        later = t[t["cycle"] >= 1]
        rows.append(
            {
                "init": init,
                "query": query,
                "seed": seed,
                "cycle0": float(t.loc[t["cycle"] == 0, "test_acc"].iloc[0]),
                "al_phase": area(later["n_labeled"].to_numpy(), later["test_acc"].to_numpy()),
                "aubc": area(t["n_labeled"].to_numpy(), t["test_acc"].to_numpy()),
            }
        )
    return pd.DataFrame(rows)


def study_inputs(results: pd.DataFrame, study: str, dataset: str, regime: str) -> pd.DataFrame:
    values = trial_values(results)
    base = values[values["init"] == "random"].set_index(["query", "seed"])
    rows = []
    for pool in sorted(set(values["init"]) - {"random"}):
        mine = values[values["init"] == pool].set_index(["query", "seed"])
        shared = mine.index.intersection(base.index)
        for phase in ("cycle0", "al_phase", "aubc"):
            per_seed = (mine.loc[shared, phase] - base.loc[shared, phase]).groupby(level="seed").mean()
            n = len(per_seed)
            se = per_seed.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            rows.append((study, dataset, regime, pool, phase, per_seed.mean(), se, n))
    return pd.DataFrame(rows, columns=["study", "dataset", "regime", "pool", "phase", "gain", "se", "n_seeds"])


def dersimonian_laird(y: np.ndarray, se: np.ndarray) -> dict:
    w = 1 / se**2
    fixed = np.sum(w * y) / np.sum(w)
    k = len(y)
    q = float(np.sum(w * (y - fixed) ** 2)) if k > 1 else np.nan
    tau2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))) if k > 1 else np.nan
    w_star = 1 / (se**2 + (tau2 if k > 1 else 0.0))
    estimate = float(np.sum(w_star * y) / np.sum(w_star))
    error = float(np.sqrt(1 / np.sum(w_star)))
    z = stats.norm.ppf(0.975)
    return {
        "k": k,
        "estimate": estimate,
        "ci_low": estimate - z * error,
        "ci_high": estimate + z * error,
        "tau2": tau2,
        "i2": (max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0) if k > 1 else np.nan,
        "q": q,
        "q_p": float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan,
        "p": float(2 * stats.norm.sf(abs(estimate) / error)),
    }


def holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def pooled(inputs: pd.DataFrame) -> pd.DataFrame:
    usable = inputs[np.isfinite(inputs["se"]) & (inputs["se"] > 0)]
    rows = [
        {"regime": regime, "pool": pool, "phase": phase, **dersimonian_laird(g["gain"].to_numpy(), g["se"].to_numpy())}
        for (regime, pool, phase), g in usable.groupby(["regime", "pool", "phase"])
    ]
    table = pd.DataFrame(rows)
    table["holm_p"] = np.nan
    guided = ~table["pool"].isin(ORACLES)
    for _, family in table[guided].groupby(["regime", "phase"]):
        table.loc[family.index, "holm_p"] = holm(family["p"].to_numpy())
    return table


def compare(name: str, mine: pd.DataFrame, theirs: pd.DataFrame, keys: list[str], columns: list[str]) -> int:
    joined = mine.merge(theirs, on=keys, how="outer", suffixes=("_recomputed", "_written"), indicator=True)
    problems = int((joined["_merge"] != "both").sum())
    if problems:
        print(f"{name}: {problems} rows are in only one of the two tables")
    worst = 0.0
    for column in columns:
        a, b = joined[f"{column}_recomputed"].to_numpy(float), joined[f"{column}_written"].to_numpy(float)
        both_nan = np.isnan(a) & np.isnan(b)
        gap = np.where(both_nan, 0.0, np.abs(a - b))
        gap = np.where(np.isnan(gap), np.inf, gap)
        worst = max(worst, float(gap.max()) if len(gap) else 0.0)
        bad = int((gap > TOLERANCE).sum())
        if bad:
            print(f"{name}: {column} differs in {bad} rows (largest gap {float(gap.max()):.3g})")
        problems += bad
    print(f"{name}: {len(joined)} rows, {len(columns)} columns compared, largest gap {worst:.2g}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the replication's folder of params files")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="the runs folder (default: runs)")
    args = parser.parse_args(argv)
    frames = []
    for path in sorted(args.folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        run_dir = Path(raw["run_dir"]) if raw.get("run_dir") else args.runs / raw["study"]
        results = pd.read_csv(run_dir / "results.csv")
        row = raw["replication"]
        frames.append(study_inputs(results, raw["study"], row["dataset"], row["regime"]))
    inputs = pd.concat(frames, ignore_index=True)
    out = args.runs / args.folder.name
    written_inputs = pd.read_csv(out / "synthesis_inputs.csv")
    written = pd.read_csv(out / "synthesis.csv")
    problems = compare(
        "synthesis_inputs.csv", inputs, written_inputs, ["study", "pool", "phase"], ["gain", "se", "n_seeds"]
    )
    problems += compare(
        "synthesis.csv",
        pooled(inputs),
        written,
        ["regime", "pool", "phase"],
        ["k", "estimate", "ci_low", "ci_high", "tau2", "i2", "q", "q_p", "holm_p"],
    )
    print("every number matches" if not problems else f"{problems} mismatches")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
