"""What ``alnb select`` was asked (:class:`SelectRequest`) and what it found (:class:`Selection`), saved once by the
command into ``<out>/cache/selection.npz`` so that the report (``notebooks/07_select.ipynb``) reads it instead of
ranking again."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alnb.select.encoders import DEFAULT_ENCODER
from alnb.select.folder import Images, Listing, SelectError
from alnb.select.forecast import Forecast
from alnb.select.ranking import DEFAULT_METHOD, Ranking

DEFAULT_CLUSTERS = 10
SAVED = Path("cache") / "selection.npz"


@dataclass(frozen=True)
class SelectRequest:
    """The arguments of ``alnb select`` (paths as given; ``out`` None: ``selections/<folder name>/``)."""

    folder: str
    budget: int
    method: str = DEFAULT_METHOD
    embeddings: str | None = None
    labeled: str | None = None
    out: str | None = None
    seed: int = 0
    clusters: int = DEFAULT_CLUSTERS
    simulate: bool = False
    encoder: str = DEFAULT_ENCODER
    weights: str | None = None
    keep_duplicates: bool = False

    @property
    def out_path(self) -> Path:
        return Path(self.out) if self.out else Path("selections") / Path(self.folder).resolve().name


@dataclass
class Selection:
    """Everything the report shows: the request, what was ranked (``paths``; ``features``, None once saved), the
    ranking and its table, the report's clusters, a 2-D map, what was skipped, near-duplicate groups (kept path →
    its near-duplicates), the forecast, and the manifest."""

    request: SelectRequest
    listing: Listing
    images: Images
    paths: list[str]
    features: np.ndarray | None
    labeled: np.ndarray
    ranking: Ranking
    clusters: np.ndarray
    table: pd.DataFrame
    coords: np.ndarray
    manifest: dict
    forecast: Forecast
    near_duplicates: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def request_dict(request: SelectRequest) -> dict:
    """The request as notebook parameters."""
    return asdict(request)


def save_selection(selection: Selection) -> Path:
    """Write what the report reads into ``<out>/cache/selection.npz`` (atomically); returns its path."""
    from alnb.core.durable import atomic_save_npz

    ranking, forecast = selection.ranking, selection.forecast
    meta = {
        "request": request_dict(selection.request),
        "listing_hash": selection.listing.listing_hash,
        "paths": selection.paths,
        "skipped": selection.images.skipped,
        "duplicates": selection.images.duplicates,
        "near_duplicates": selection.near_duplicates,
        "notes": selection.notes,
        "manifest": selection.manifest,
        "ranking": {k: getattr(ranking, k) for k in ("method", "objective", "start", "options")},
        "forecast": {k: getattr(forecast, k) for k in ("z", "value", "random_mean", "random_sd", "points")},
    }
    file = selection.request.out_path / SAVED
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_npz(
        file,
        meta=np.asarray(json.dumps(meta)),
        order=ranking.order,
        values=ranking.values,
        gains=ranking.gains,
        labeled=selection.labeled,
        clusters=selection.clusters,
        coords=selection.coords,
        random_curve=forecast.random_curve,
        random_low=forecast.random_low,
        random_high=forecast.random_high,
    )
    return file


def load_selection(out: str | Path) -> Selection:
    """The selection that ``alnb select`` saved into the output folder ``out`` (features are not kept)."""
    out = Path(out)
    file = out / SAVED
    if not file.is_file():
        raise SelectError(f"--out: {out} holds no selection; run alnb select first")
    with np.load(file, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays.pop("meta")))
    request = SelectRequest(**meta["request"])
    ranking = Ranking(order=arrays["order"], values=arrays["values"], gains=arrays["gains"], **meta["ranking"])
    forecast = Forecast(
        random_curve=arrays["random_curve"],
        random_low=arrays["random_low"],
        random_high=arrays["random_high"],
        **meta["forecast"],
    )
    return Selection(
        request,
        Listing(Path(request.folder), [], meta["listing_hash"]),
        Images(meta["paths"], None, meta["skipped"], meta["duplicates"]),
        meta["paths"],
        None,
        arrays["labeled"],
        ranking,
        arrays["clusters"],
        pd.read_csv(out / "selection.csv", dtype={"path": str}),
        arrays["coords"],
        meta["manifest"],
        forecast,
        meta["near_duplicates"],
        meta["notes"],
    )
