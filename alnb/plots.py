"""Figures of the study; each function takes a tidy table (or arrays) and returns a matplotlib Figure."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


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


def learning_curves(curves: pd.DataFrame, panel: str = "query", line: str = "init",
                    ylabel: str = "test accuracy") -> plt.Figure:
    """Mean ± std over seeds against the number of labels, one panel per ``panel`` value."""
    panels = sorted(curves[panel].unique())
    colors = _colors(sorted(curves[line].unique()))
    fig, axes = _grid(len(panels))
    for ax, value in zip(axes, panels):
        sub = curves[curves[panel] == value]
        for name, grp in sub.groupby(line, sort=True):
            grp = grp.sort_values("n_labeled")
            ax.plot(grp["n_labeled"], grp["mean"], marker="o", ms=3, label=name, color=colors[name],
                    lw=2.2 if name == "random" else 1.4, ls="--" if name == "random" else "-")
            ax.fill_between(grp["n_labeled"], grp["mean"] - grp["std"], grp["mean"] + grp["std"],
                            color=colors[name], alpha=0.12)
        ax.set_title(f"{panel} = {value}")
        ax.set_xlabel("labeled samples")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(fontsize=8, title=line)
    fig.tight_layout()
    return fig


def class_histograms(hist: pd.DataFrame, class_names: list[str] | None = None) -> plt.Figure:
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
    fig.tight_layout()
    return fig


def paired_differences(paired: pd.DataFrame, value: str = "AUBC") -> plt.Figure:
    """Forest plot of guided − random differences with 95% intervals, one panel per query method."""
    queries = sorted(paired["query"].unique())
    fig, axes = _grid(len(queries), width=4.2, height=0.45 * max(3, paired["init"].nunique()) + 1.2)
    for ax, query in zip(axes, queries):
        sub = paired[paired["query"] == query].sort_values("init")
        y = np.arange(len(sub))
        err = np.vstack([sub["mean_diff"] - sub["ci_low"], sub["ci_high"] - sub["mean_diff"]])
        ax.errorbar(sub["mean_diff"], y, xerr=np.nan_to_num(err), fmt="o", color="tab:blue", capsize=3)
        ax.axvline(0, color="black", lw=1)
        ax.set_yticks(y, sub["init"])
        ax.set_title(f"query = {query}")
        ax.set_xlabel(f"{value}: guided − random")
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def overlap_curves(overlap: pd.DataFrame, baseline: str = "random") -> plt.Figure:
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
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"Jaccard overlap with {baseline}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def pool_maps(coords: np.ndarray, labels: np.ndarray, pools: dict[str, np.ndarray]) -> plt.Figure:
    """The 2-D map of U coloured by class in grey tones, with each pool's samples marked, one panel per pool."""
    fig, axes = _grid(len(pools), width=3.8, height=3.6)
    for ax, (name, positions) in zip(axes, pools.items()):
        ax.scatter(coords[:, 0], coords[:, 1], c=labels, cmap="tab10", s=4, alpha=0.25, linewidths=0)
        ax.scatter(coords[positions, 0], coords[positions, 1], c=labels[positions], cmap="tab10", s=28,
                   edgecolors="black", linewidths=0.8, vmin=labels.min(), vmax=labels.max())
        ax.set_title(f"{name} ({len(positions)})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, titles: list[str] | None = None, cols: int = 10,
               suptitle: str | None = None) -> plt.Figure:
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
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def metric_by(values: pd.DataFrame, x: str, y: str = "mean", hue: str = "init", err: str = "std",
              xlabel: str | None = None, ylabel: str | None = None, title: str | None = None) -> plt.Figure:
    """A line per ``hue`` of ``y`` ± ``err`` against ``x`` (ablations, imbalance factors)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    colors = _colors(sorted(values[hue].unique()))
    for name, grp in values.groupby(hue, sort=True):
        grp = grp.sort_values(x)
        ax.errorbar(grp[x], grp[y], yerr=grp[err] if err in grp else None, marker="o", capsize=3, label=name,
                    color=colors[name])
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_curves(histories: dict[str, list[list[float]]]) -> plt.Figure:
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
    fig.tight_layout()
    return fig


def score_distributions(scores: dict[str, np.ndarray]) -> plt.Figure:
    """Histogram of the per-sample pretext loss of each task."""
    fig, axes = _grid(len(scores), width=3.6, height=2.8)
    for ax, (task, values) in zip(axes, scores.items()):
        ax.hist(values, bins=40, color="tab:blue", alpha=0.8)
        ax.set_title(task)
        ax.set_xlabel("per-sample loss")
        ax.tick_params(labelleft=True)
    axes[0].set_ylabel("samples")
    fig.tight_layout()
    return fig
