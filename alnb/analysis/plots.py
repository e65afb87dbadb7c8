"""Figures of the study; each function takes a tidy table (or arrays) and returns a matplotlib Figure.

Every figure has a title, labelled axes and, where lines or points differ, a legend. Under ``alnb
study`` each is also saved as PNG and SVG in the folder named by ``ALNB_FIGURES_DIR`` (the report's
``figures/``), named after the notebook (``ALNB_NOTEBOOK``) and the function.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from alnb.core.config import NOTEBOOK_ENV

FIGURES_ENV = "ALNB_FIGURES_DIR"
_saved: dict[str, int] = {}


TITLE_PAD = 0.06  # inches above and below a figure's title
LAYOUT_PAD = 1.08  # tight_layout's padding around the panels, in font sizes (its default)


def finish_figure(fig: plt.Figure, name: str, title: str | None, right: float = 1.0) -> plt.Figure:
    """Title the figure, lay it out (up to ``right``, leaving room for a figure legend) and, under
    ``alnb study``, save it as PNG and SVG."""
    top, tall = 1.0, fig.get_figheight()
    if title:
        text = fig.suptitle(title, fontsize=12, y=1 - TITLE_PAD / tall, va="top")
        text.set_in_layout(False)  # its room is measured here; tight_layout would add its pad on top of it
        height = text.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi  # inches
        # tight_layout keeps its own pad below the rect's top; the panels' top then sits TITLE_PAD under the title
        pad = LAYOUT_PAD * plt.rcParams["font.size"] / 72
        top = min(1.0, 1 - (2 * TITLE_PAD + height - pad) / tall)
    fig.tight_layout(pad=LAYOUT_PAD, rect=(0, 0, right, top))
    if title:
        text.set_in_layout(True)  # a saved figure's tight bounding box must hold the title
    folder = os.environ.get(FIGURES_ENV)
    if folder:
        stem = f"{os.environ.get(NOTEBOOK_ENV, 'figure')}_{name}"
        _saved[stem] = _saved.get(stem, 0) + 1
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{stem}_{_saved[stem]}" if _saved[stem] > 1 else stem)
        save_figure(fig, Path(folder) / stem)  # write_atomically makes the folder
    return fig


def save_figure(fig, stem: Path) -> None:
    """``fig`` as ``stem.png`` and ``stem.svg``, each written atomically (a full disk stops in one line)."""
    from alnb.core.durable import write_atomically

    for ext in ("png", "svg"):
        write_atomically(
            stem.with_name(f"{stem.name}.{ext}"),
            lambda path, ext=ext: fig.savefig(path, format=ext, dpi=110, bbox_inches="tight"),
        )


def _grid(n: int, width: float = 4.2, height: float = 3.3, max_cols: int = 4):
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharey=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _colors(names: list[str]) -> dict[str, tuple]:
    """Stable colours: ``random`` is always black, the rest follow a qualitative palette."""
    palette = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    others = [n for n in names if n != "random"]
    colors = {n: palette(i % palette.N) for i, n in enumerate(others)}
    colors["random"] = (0.0, 0.0, 0.0, 1.0)
    return colors


def learning_curves(
    curves: pd.DataFrame,
    panel: str = "query",
    line: str = "init",
    ylabel: str = "test accuracy",
    title: str | None = "Learning curves (mean ± std over seeds)",
) -> plt.Figure:
    """Mean ± std over seeds against the number of labels, one panel per ``panel`` value."""
    panels = sorted(curves[panel].unique())
    colors = _colors(sorted(curves[line].unique()))
    fig, axes = _grid(len(panels))
    for ax, value in zip(axes, panels):
        sub = curves[curves[panel] == value]
        for name, grp in sub.groupby(line, sort=True):
            grp = grp.sort_values("n_labeled")
            ax.plot(
                grp["n_labeled"],
                grp["mean"],
                marker="o",
                ms=3,
                label=name,
                color=colors[name],
                lw=2.2 if name == "random" else 1.4,
                ls="--" if name == "random" else "-",
            )
            ax.fill_between(
                grp["n_labeled"], grp["mean"] - grp["std"], grp["mean"] + grp["std"], color=colors[name], alpha=0.12
            )
        ax.set_title(f"{panel} = {value}")
        ax.set_xlabel("labeled samples")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(fontsize=8, title=line)
    return finish_figure(fig, "learning_curves", title)


def class_histograms(
    hist: pd.DataFrame, class_names: list[str] | None = None, title: str | None = "Class histogram of each initial pool"
) -> plt.Figure:
    """Mean number of samples per class in each initial pool."""
    inits = sorted(hist["init"].unique())
    fig, axes = _grid(len(inits), width=3.6, height=2.6, max_cols=5)
    for ax, init in zip(axes, inits):
        sub = hist[hist["init"] == init].sort_values("class")
        ax.bar(sub["class"], sub["count"], color="0.2" if init == "random" else "tab:blue")
        ax.set_title(init, fontsize=10)
        if class_names is not None and len(class_names) <= 20:
            ax.set_xticks(range(len(class_names)), class_names, fontsize=7, rotation=90)
        ax.set_xlabel("class")
    axes[0].set_ylabel("samples (mean over seeds)")
    return finish_figure(fig, "class_histograms", title)


def paired_differences(
    paired: pd.DataFrame, value: str = "AUBC", title: str | None = "Guided − random, paired by seed (95% t-intervals)"
) -> plt.Figure:
    """Forest plot of guided − random differences with 95% intervals, one panel per query method."""
    from alnb.core.trial_keys import FACTOR_KEYS

    factors = [f for f in FACTOR_KEYS if f in paired.columns]
    queries = sorted(paired["query"].unique())
    rows = paired.groupby("query").size().max() if len(paired) else 1
    fig, axes = _grid(len(queries), width=5.2 if factors else 4.2, height=0.45 * max(3, rows) + 1.2)
    for ax, query in zip(axes, queries):
        sub = paired[paired["query"] == query].sort_values([*factors, "init"])
        labels = sub["init"].astype(str)
        for factor in factors:  # sub-study rows of one init stay apart: "kmeans_equal, initial_size=10"
            labels = labels + f", {factor}=" + sub[factor].astype(str)
        y = np.arange(len(sub))
        err = np.vstack([sub["mean_diff"] - sub["ci_low"], sub["ci_high"] - sub["mean_diff"]])
        ax.errorbar(sub["mean_diff"], y, xerr=np.nan_to_num(err), fmt="o", color="tab:blue", capsize=3)
        ax.axvline(0, color="black", lw=1)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # long labels of small differences must not collide
        ax.set_yticks(y, labels)
        ax.set_title(f"query = {query}")
        ax.set_xlabel(f"{value}: guided − random")
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_ylabel("initial pool")
    return finish_figure(fig, "paired_differences", title)


def overlap_curves(
    overlap: pd.DataFrame,
    baseline: str = "random",
    title: str | None = "How much of the labeled set a guided start shares with a random one",
) -> plt.Figure:
    """Jaccard overlap with the random start's labeled set across cycles, one panel per query method."""
    sub = overlap[(overlap["init_a"] == baseline) | (overlap["init_b"] == baseline)].copy()
    sub["init"] = np.where(sub["init_a"] == baseline, sub["init_b"], sub["init_a"])
    queries = sorted(sub["query"].unique()) or ["(none)"]
    colors = _colors(sorted(sub["init"].unique()))
    fig, axes = _grid(len(queries))
    for ax, query in zip(axes, queries):
        for init, grp in sub[sub["query"] == query].groupby("init", sort=True):
            ax.plot(grp["cycle"], grp["jaccard"], marker="o", ms=3, label=init, color=colors[init])
        ax.set_title(f"query = {query}")
        ax.set_xlabel("cycle")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"Jaccard overlap with {baseline}")
    axes[0].legend(fontsize=8, title="init")
    return finish_figure(fig, "overlap_curves", title)


def pool_maps(
    coords: np.ndarray,
    labels: np.ndarray,
    pools: dict[str, np.ndarray],
    title: str | None = "Initial pools on a 2-D map of U (colour: class)",
) -> plt.Figure:
    """The 2-D map of U coloured faintly by class, with each pool's samples marked, one panel per pool
    (an oracle reference titled "<name> (oracle)")."""
    from alnb.methods.pools import pool_label

    fig, axes = _grid(len(pools), width=3.8, height=3.6)
    for ax, (name, positions) in zip(axes, pools.items()):
        ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap="tab10", s=4, alpha=0.25, linewidths=0)
        ax.scatter(
            coords[positions, 0],
            coords[positions, 1],
            c=labels[positions],
            cmap="tab10",
            s=28,
            edgecolors="black",
            linewidths=0.8,
            vmin=labels.min(),
            vmax=labels.max(),
        )
        ax.set_title(f"{pool_label(name)} ({len(positions)})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("map axis 1", fontsize=8)
        ax.set_ylabel("map axis 2", fontsize=8)
    classes = np.unique(labels)
    if len(classes) <= 20:
        cmap = plt.get_cmap("tab10")
        norm = plt.Normalize(labels.min(), labels.max())
        handles = [plt.Line2D([], [], ls="", marker="o", color=cmap(norm(c)), label=str(c)) for c in classes]
        fig.legend(handles=handles, title="class", loc="center right", fontsize=7)
    return finish_figure(fig, "pool_maps", title, right=0.9 if len(classes) <= 20 else 1.0)


def image_grid(
    images: np.ndarray, titles: list[str] | None = None, cols: int = 10, suptitle: str | None = None
) -> plt.Figure:
    """Images ``[n, C, H, W]`` (uint8) in a grid."""
    n = len(images)
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.25 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:n]):
        img = np.asarray(images[i]).transpose(1, 2, 0)
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=7)
    return finish_figure(fig, "image_grid", suptitle)


def metric_by(
    values: pd.DataFrame,
    x: str,
    y: str = "mean",
    hue: str = "init",
    err: str = "std",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> plt.Figure:
    """A line per ``hue`` of ``y`` ± ``err`` against ``x`` (ablations, imbalance factors)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    colors = _colors(sorted(values[hue].unique()))
    for name, grp in values.groupby(hue, sort=True):
        grp = grp.sort_values(x)
        ax.errorbar(
            grp[x], grp[y], yerr=grp[err] if err in grp else None, marker="o", capsize=3, label=name, color=colors[name]
        )
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title=hue)
    return finish_figure(fig, "metric_by", title)  # the figure's title, once


def training_curves(
    histories: dict[str, list[list[float]]], title: str | None = "Pretext training loss (one line per seed)"
) -> plt.Figure:
    """Training loss per epoch of each pretext task (one thin line per seed)."""
    fig, axes = _grid(len(histories), width=3.6, height=2.8)
    for ax, (task, runs) in zip(axes, histories.items()):
        for run in runs:
            ax.plot(range(1, len(run) + 1), run, color="tab:blue", alpha=0.7)
        ax.set_title(task)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.tick_params(labelleft=True)
    axes[0].set_ylabel("training loss")
    return finish_figure(fig, "training_curves", title)


def score_distributions(
    scores: dict[str, np.ndarray], title: str | None = "Per-sample pretext loss on U"
) -> plt.Figure:
    """Histogram of the per-sample pretext loss of each task."""
    fig, axes = _grid(len(scores), width=3.6, height=2.8)
    for ax, (task, values) in zip(axes, scores.items()):
        ax.hist(values, bins=40, color="tab:blue", alpha=0.8)
        ax.set_title(task)
        ax.set_xlabel("per-sample loss")
        ax.tick_params(labelleft=True)
    axes[0].set_ylabel("samples")
    return finish_figure(fig, "score_distributions", title)


def gain_curves(
    gains: pd.DataFrame,
    baseline: str = "random",
    ends: pd.Series | None = None,
    title: str | None = "Gain over a random initial pool, per cycle (95% bands over seeds)",
) -> plt.Figure:
    """One line per initial pool: the test-accuracy gain over ``baseline`` against the number of labels;
    ``ends`` (init → labeled size) marks with a ring where each pool's gain interval first includes 0."""
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    colors = _colors(sorted(gains["init"].unique()))
    for init, grp in gains.groupby("init", sort=True):
        grp = grp.sort_values("n_labeled")
        oracle = (grp["kind"] == "oracle").any() if "kind" in grp else False
        ax.plot(
            grp["n_labeled"],
            grp["mean_gain"],
            marker="o",
            ms=3,
            color=colors[init],
            ls=":" if oracle else "-",
            label=f"{init} (oracle)" if oracle else init,
        )
        ax.fill_between(grp["n_labeled"], grp["ci_low"], grp["ci_high"], color=colors[init], alpha=0.12)
        end = np.nan if ends is None else ends.get(init, np.nan)
        if np.isfinite(end):
            at = grp.loc[grp["n_labeled"] == end, "mean_gain"]
            ax.plot([end], [at.iloc[0]], marker="o", ms=10, mfc="none", mec=colors[init], mew=1.6)
    ax.axhline(0, color="black", lw=1.2, ls="--", label=baseline)
    if ends is not None and np.isfinite(ends.to_numpy(float)).any():
        ax.plot([], [], marker="o", ms=10, mfc="none", mec="grey", ls="none", label="interval first includes 0")
    ax.set_xlabel("labeled samples")
    ax.set_ylabel(f"test accuracy − {baseline} (mean over query methods)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, title="initial pool", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return finish_figure(fig, "gain_curves", title)


def penalty_heatmap(
    matrix: pd.DataFrame, title: str | None = "Pairwise penalty matrix: share of points where row beats column"
) -> plt.Figure:
    """The penalty matrix (Lüth et al. 2023) as a heat map, column sums below the names."""
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(max(6.0, 2.5 + 0.6 * n), max(4.8, 2.0 + 0.5 * n)))
    image = ax.imshow(matrix.to_numpy(), cmap="viridis", vmin=0, vmax=1)
    sums = matrix.sum(axis=0)
    ax.set_xticks(range(n), [f"{c}\n(Σ {sums[c]:.2f})" for c in matrix.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), matrix.index, fontsize=8)
    for i in range(n):
        for j in range(n):
            value = matrix.iat[i, j]
            if i != j and value > 0:
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > 0.6 else "white",
                )
    ax.set_xlabel("than (column sum: how often beaten)")
    ax.set_ylabel("significantly better")
    fig.colorbar(image, ax=ax, label="share of (query method, cycle) points", shrink=0.8)
    return finish_figure(fig, "penalty_matrix", title)


def quality_scatter(
    table: pd.DataFrame,
    labels: dict[str, str],
    correlations: pd.DataFrame | None = None,
    title: str | None = "What makes a pool good: pool properties against the AL-phase gain",
) -> plt.Figure:
    """One panel per property: each (init, seed) pool (small points) and each pool type's mean over seeds
    (large points) against the AL-phase gain over random; the title gives Spearman's ρ over pool types."""
    props = [p for p in labels if p in table]
    fig, axes = _grid(len(props), width=4.2, height=3.4, max_cols=3)
    colors = _colors(sorted(table["init"].unique()))
    rho = {} if correlations is None else correlations.set_index("property")["rho_over_types"].to_dict()
    for ax, prop in zip(axes, props):
        for init, grp in table.groupby("init", sort=True):
            ax.scatter(grp[prop], grp["al_phase_gain"], s=10, color=colors[init], alpha=0.35)
            ax.scatter(
                grp[prop].mean(),
                grp["al_phase_gain"].mean(),
                s=70,
                color=colors[init],
                label=init,
                edgecolor="black",
                linewidth=0.6,
            )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(labels[prop], fontsize=8)
        ax.set_title(
            f"ρ over pool types = {rho[prop]:+.2f}" if np.isfinite(rho.get(prop, np.nan)) else prop, fontsize=9
        )
        ax.grid(alpha=0.3)
        ax.tick_params(labelleft=True)
    axes[0].set_ylabel("AL-phase gain over random")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, title="initial pool", loc="center right", fontsize=7)
    return finish_figure(fig, "pool_quality", title, right=0.86)


def forest_plots(inputs: pd.DataFrame, pooled: pd.DataFrame, regime: str, phase: str, title: str | None = None):
    """One panel per pool: each dataset's mean gain over random with its 95% t-interval over seeds (squares), and
    the random-effects pooled gain with its 95% interval (a diamond); ``inputs`` and ``pooled`` as written by
    the synthesis (``alnb.analysis.synthesis``), for one ``regime`` and ``phase``."""
    from alnb.analysis.synthesis import PHASE_LABELS, interval_half_width

    rows = inputs[(inputs["regime"] == regime) & (inputs["phase"] == phase)]
    pools = sorted(rows["pool"].unique())
    from alnb.methods.pools import pool_label

    fig, axes = _grid(len(pools), width=4.0, height=0.5 * rows["dataset"].nunique() + 2.2, max_cols=3)
    for ax, pool in zip(axes, pools):
        studies = rows[rows["pool"] == pool].sort_values("dataset", ascending=False)
        half = interval_half_width(studies["se"], studies["n_seeds"])
        y = np.arange(len(studies)) + 1
        ax.errorbar(studies["gain"], y, xerr=np.nan_to_num(half), fmt="s", color="#4a78b5", ms=5, capsize=2)
        ax.set_yticks([0, *y], ["pooled", *studies["dataset"]])
        row = pooled[(pooled["regime"] == regime) & (pooled["phase"] == phase) & (pooled["pool"] == pool)]
        if len(row):
            r = row.iloc[0]
            ax.fill([r["ci_low"], r["estimate"], r["ci_high"], r["estimate"]], [0, 0.25, 0, -0.25], color="#b5534a")
        ax.axvline(0, color="black", lw=1, ls="--")
        ax.set_title(pool_label(pool), fontsize=10)
        ax.set_xlabel(f"{PHASE_LABELS[phase]} over random")
        ax.grid(alpha=0.3, axis="x")
    return finish_figure(fig, f"forest_{regime}_{phase}", title)
