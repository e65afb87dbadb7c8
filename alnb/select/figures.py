"""What ``selection.html`` shows: thumbnails in pick order, a 2-D map with the picks, cluster sizes against
picks per cluster, the objective per prefix against random orders, near-duplicate groups, and the skipped files. Figures are matplotlib Figures (saved as
PNG and SVG beside the report under ``alnb select``, like the study's); tables are DataFrames."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from alnb.analysis.plots import finish_figure
from alnb.core import seeding
from alnb.select.objectives import OBJECTIVES

THUMBNAILS = 100
THUMBNAIL_SIDE = 72


def _thumbnail(path: Path) -> str:
    """A PNG data URI of the image at ``path`` shrunk to fit ``THUMBNAIL_SIDE`` pixels ('' when unreadable)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            img.save(buffer, format="PNG")
    except OSError:
        return ""
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def thumbnails_html(root: Path, table: pd.DataFrame, limit: int = THUMBNAILS) -> str:
    """The first ``limit`` picks as a grid of thumbnails captioned with rank and path."""
    cells = []
    for rank, path in zip(table["rank"][:limit], table["path"][:limit]):
        name = html.escape(path)
        cells.append(
            f'<figure style="margin:3px;width:{THUMBNAIL_SIDE + 26}px;text-align:center;font-size:10px">'
            f'<img src="{_thumbnail(root / path)}" alt="{name}" title="{name}" '
            f'style="width:{THUMBNAIL_SIDE}px;height:{THUMBNAIL_SIDE}px;object-fit:contain;'
            f'image-rendering:pixelated;border:1px solid #ccc"/>'
            f'<figcaption style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            f"<b>{rank}</b> {name}</figcaption></figure>"
        )
    return f'<div style="display:flex;flex-wrap:wrap">{"".join(cells)}</div>'


def pick_map(
    coords: np.ndarray,
    clusters: np.ndarray,
    order: np.ndarray,
    labeled: np.ndarray,
    seed: int,
    max_points: int = 5_000,
    numbered: int = 20,
) -> plt.Figure:
    """The folder in 2-D (PCA of the embeddings), coloured by cluster, with the picks marked (the first
    ``numbered`` with their rank) and the already labeled images as black crosses; at most ``max_points``
    background points (a seeded sample)."""
    rng = seeding.rng(seed, "select", "map-sample")
    shown = (
        np.arange(len(coords))
        if len(coords) <= max_points
        else np.sort(rng.choice(len(coords), max_points, replace=False))
    )
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    ax.scatter(coords[shown, 0], coords[shown, 1], c=clusters[shown], cmap="tab10", s=6, alpha=0.35, linewidths=0)
    if len(labeled):
        ax.scatter(coords[labeled, 0], coords[labeled, 1], marker="x", c="black", s=30, label="already labeled")
    ax.scatter(
        coords[order, 0],
        coords[order, 1],
        facecolors="none",
        edgecolors="crimson",
        s=40,
        linewidths=1.2,
        label=f"picks ({len(order)})",
    )
    for rank, point in enumerate(order[:numbered], start=1):
        ax.annotate(str(rank), coords[point], fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("first principal component of the embeddings")
    ax.set_ylabel("second principal component")
    ax.legend(loc="best", fontsize=9)
    note = f" ({len(shown):,} of {len(coords):,} images shown)" if len(shown) < len(coords) else ""
    return finish_figure(fig, "map", f"The folder and the picks{note}")


def cluster_counts(clusters: np.ndarray, order: np.ndarray, cuts: tuple[int, ...] = (10, 20, 50)) -> pd.DataFrame:
    """Per cluster: its size, its share of the folder, and how many of the first k picks fall in it."""
    n_clusters = int(clusters.max()) + 1
    sizes = np.bincount(clusters, minlength=n_clusters)
    table = pd.DataFrame({"cluster": np.arange(n_clusters), "images": sizes, "share": sizes / sizes.sum()})
    for cut in sorted({*(c for c in cuts if c < len(order)), len(order)}):
        table[f"picks in first {cut}"] = np.bincount(clusters[order[:cut]], minlength=n_clusters)
    return table


def cluster_bars(counts: pd.DataFrame) -> plt.Figure:
    """Each cluster's share of the folder beside its share of all picks."""
    picks = counts.columns[-1]
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    x = np.arange(len(counts))
    ax.bar(x - 0.2, counts["share"], width=0.4, label="share of the folder", color="0.6")
    ax.bar(
        x + 0.2,
        counts[picks] / max(1, counts[picks].sum()),
        width=0.4,
        label=f"share of the {picks[9:]}",
        color="crimson",
    )
    ax.set_xticks(x)
    ax.set_xlabel("cluster (k-means on the embeddings)")
    ax.set_ylabel("share")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    return finish_figure(fig, "clusters", "Cluster sizes against picks per cluster")


def objective_curve(values: np.ndarray, start: float, objective: str, method: str, forecast=None) -> plt.Figure:
    """The objective after every prefix of the ranking (and, for scale, random orders' mean and 10-90% band from
    the :class:`~alnb.select.forecast.Forecast`, when given)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    k = np.arange(1, len(values) + 1)
    ax.plot(k, values, color="crimson", label=method)
    if forecast is not None:
        ax.plot(k, forecast.random_curve, color="black", linestyle="--", label="random orders (mean)")
        ax.fill_between(k, forecast.random_low, forecast.random_high, color="0.6", alpha=0.3, label="10-90%")
    if np.isfinite(start) and start > 0:
        ax.axhline(start, color="0.5", linewidth=0.8, linestyle=":", label="already labeled only")
    ax.set_xlabel("images labeled (prefix of the ranking)")
    ax.set_ylabel(objective + (" (higher is better)" if OBJECTIVES[objective] else " (lower is better)"))
    ax.set_xscale("log" if len(values) >= 50 else "linear")
    ax.legend(fontsize=9)
    return finish_figure(fig, "objective", f"{objective.capitalize()} of every prefix")


def skipped_table(skipped: dict[str, str]) -> pd.DataFrame:
    """The skipped files and why, sorted by path."""
    return pd.DataFrame(sorted(skipped.items()), columns=["file", "why it is not ranked"])


def near_duplicates_table(groups: dict[str, list[str]]) -> pd.DataFrame:
    """Each group of near-duplicates: the image kept (ranked) and the others, sorted by the kept path."""
    return pd.DataFrame(
        [(kept, len(others), ", ".join(others)) for kept, others in sorted(groups.items())],
        columns=["kept (ranked)", "near-duplicates", "not ranked"],
    )


def summary_markdown(selection) -> str:
    """The report's opening paragraph, generated from the selection's numbers."""
    from alnb.select.forecast import forecast_sentence

    ranking, manifest = selection.ranking, selection.manifest
    random_values = selection.forecast.random_curve
    n_ranked, k = len(ranking.order), min(10, len(ranking.order))
    source = html.escape(manifest["embeddings"]["source"])  # the user's file name: shown, never run as HTML
    clusters_hit = len(np.unique(selection.clusters[ranking.order[:k]]))
    n_clusters = int(selection.clusters.max()) + 1
    better = "higher" if OBJECTIVES[ranking.objective] else "lower"
    lines = [
        f"**{n_ranked:,} images ranked** with **{ranking.method}** on the embeddings of *{source}*, out of "
        f"{manifest['images_listed']:,} image files ({len(selection.paths):,} unique, readable and not "
        f"near-duplicates, "
        f"{len(selection.images.skipped):,} skipped"
        + (f", {len(selection.labeled):,} already labeled" if len(selection.labeled) else "")
        + ").",
        f"The first {k} picks fall in {clusters_hit} of the {n_clusters} clusters of the folder. The "
        f"{ranking.objective} ({better} is better) is {ranking.values[k - 1]:.3g} after {k} picks and "
        f"{ranking.values[-1]:.3g} after {n_ranked}; the same prefixes of random orders "
        f"reach {random_values[k - 1]:.3g} and {random_values[-1]:.3g} on average.",
        forecast_sentence(selection.forecast, ranking.objective, n_ranked, ranking.method),
        "Label the images in rank order (`to_label.txt`); you may stop anywhere: every prefix is itself a pool "
        "of this method.",
    ]
    lines += [f"Note: {note}." for note in selection.notes]
    return "\n\n".join(lines)
