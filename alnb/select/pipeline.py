"""``alnb select``: from a folder of images to a ranking and its files.

:func:`check_request` checks every argument and input file before any compute and writes nothing; a problem
raises one :class:`~alnb.select.folder.SelectError` line naming the argument or file. :func:`run_selection`
then lists and decodes the folder (cached), computes or reads the embeddings (cached), ranks, and writes the
ranking's files (:mod:`alnb.select.outputs`). Caches live in ``<out>/cache/``, never inside FOLDER.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from alnb.core import seeding
from alnb.select.embeddings import IMAGE_SIZE, UserEmbeddings, array_hash, load_user_embeddings, ssl_encoder
from alnb.select.folder import Images, Listing, SelectError, decode_images, leaves_folder, list_images
from alnb.select.outputs import selection_table, write_outputs
from alnb.select.ranking import DEFAULT_METHOD, Ranking, check_method, rank

DEFAULT_CLUSTERS = 10
MAP_POINTS = 5_000


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

    @property
    def out_path(self) -> Path:
        return Path(self.out) if self.out else Path("selections") / Path(self.folder).resolve().name


@dataclass
class Selection:
    """Everything the report shows: the request, what was ranked (``paths``, ``features``), the ranking and its
    table, the report's clusters, a 2-D map, what was skipped, and the manifest."""

    request: SelectRequest
    listing: Listing
    images: Images
    paths: list[str]
    features: np.ndarray
    labeled: np.ndarray
    ranking: Ranking
    clusters: np.ndarray
    table: pd.DataFrame
    coords: np.ndarray
    manifest: dict
    notes: list[str] = field(default_factory=list)


def _read_labeled(file: str, listing: Listing) -> list[str]:
    path = Path(file)
    if not path.is_file():
        raise SelectError(f"--labeled: {file} is not a file")
    listed = set(listing.paths)
    names = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        name = Path(name).as_posix()
        if leaves_folder(name):
            raise SelectError(
                f"--labeled: {path.name} line {number} names {name}, a path leaving FOLDER (paths are relative to "
                f"FOLDER, without '..')"
            )
        if name not in listed:
            raise SelectError(
                f"--labeled: {path.name} line {number} names {name}, which is not an image in FOLDER "
                f"(paths are relative to FOLDER)"
            )
        names.append(name)
    return names


def _check_simulate_folder(root: Path) -> None:
    classes = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    if len(classes) < 2:
        raise SelectError(
            f"--simulate: FOLDER {root} needs at least 2 class subfolders (FOLDER/<class>/*.png|jpg) "
            f"to score a simulated study; it has {len(classes)}"
        )


def check_request(request: SelectRequest) -> tuple[Listing, list[str], UserEmbeddings | None]:
    """Every argument checked before any compute; returns (the folder's listing, the labeled paths, the user's
    embeddings or None). Nothing is written."""
    listing = list_images(request.folder)
    if not isinstance(request.budget, (int, np.integer)) or not 0 < request.budget <= len(listing.paths):
        raise SelectError(f"--budget: {request.budget} is outside [1, {len(listing.paths)}] (the images in FOLDER)")
    check_method(request.method, has_scores=request.embeddings is None)
    if request.clusters < 2:
        raise SelectError(f"--clusters: {request.clusters} must be at least 2")
    out = request.out_path.resolve()
    if out.is_relative_to(listing.root.resolve()):
        raise SelectError(f"--out: {request.out_path} is inside FOLDER; alnb never writes into the folder it ranks")
    labeled = _read_labeled(request.labeled, listing) if request.labeled else []
    user = None
    if request.embeddings:
        user = load_user_embeddings(request.embeddings)
        listed = set(listing.paths)
        leaving = [p for p in user.paths if leaves_folder(p)]
        if leaving:
            raise SelectError(
                f"--embeddings: {Path(request.embeddings).name} names {leaving[0]}, a path leaving FOLDER "
                f"({len(leaving)} such paths; paths are relative to FOLDER, without '..')"
            )
        missing = [p for p in user.paths if p not in listed]
        if missing:
            raise SelectError(
                f"--embeddings: {Path(request.embeddings).name} names {missing[0]}, which is not an "
                f"image in FOLDER ({len(missing)} such paths; paths are relative to FOLDER)"
            )
    else:
        _first_readable(listing)
    if request.simulate:
        _check_simulate_folder(listing.root)
    return listing, labeled, user


def _first_readable(listing: Listing) -> None:
    from alnb.data.imagefolder import ImageFolderError, read_image

    for path in listing.paths:
        try:
            read_image(listing.root / path, 8)
            return
        except ImageFolderError:
            continue
    raise SelectError(
        f"FOLDER: {listing.root} holds no readable image ({len(listing.paths)} files, all unreadable or truncated)"
    )


def _cached_images(listing: Listing, cache: Path, decode: bool) -> Images:
    """The decoded unique images, from ``cache`` when this listing was decoded before."""
    import json

    from alnb.core.durable import is_verified, save_verified_npz

    file = cache / f"images_{listing.listing_hash}_{IMAGE_SIZE if decode else 'paths'}.npz"
    if is_verified(file, "the folder is decoded again"):
        with np.load(file, allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            return Images(meta["paths"], arrays["pixels"] if decode else None, meta["skipped"], meta["duplicates"])
    images = decode_images(listing, IMAGE_SIZE, decode)
    meta = json.dumps({"paths": images.paths, "skipped": images.skipped, "duplicates": images.duplicates})
    cache.mkdir(parents=True, exist_ok=True)
    save_verified_npz(file, meta=np.asarray(meta), pixels=images.pixels if decode else np.zeros(0, np.uint8))
    return images


def _map_2d(features: np.ndarray, seed: int) -> np.ndarray:
    """A 2-D PCA of the L2-normalised features (fitted on at most 20,000 rows)."""
    from sklearn.decomposition import PCA

    from alnb.methods.geometry import l2_normalize

    x = l2_normalize(features)
    rng = seeding.rng(seed, "select", "map")
    fit = x if len(x) <= 20_000 else x[rng.choice(len(x), 20_000, replace=False)]
    return PCA(2, random_state=seeding.stream_seed(seed, "select", "map") % 2**31).fit(fit).transform(x)


def run_selection(request: SelectRequest, log=print) -> Selection:
    """Rank FOLDER's images under ``request`` and write the ranking's files into the output folder."""
    from alnb import __version__
    from alnb.methods.geometry import l2_normalize
    from alnb.methods.pools.clustering import kmeans_clusters

    listing, labeled_names, user = check_request(request)
    out = request.out_path
    cache = out / "cache"
    images = _cached_images(listing, cache, decode=user is None)
    notes: list[str] = []
    scores = None
    if user is None:
        encoder = ssl_encoder(images.pixels, listing.listing_hash, cache, request.seed, log)
        paths, features, scores = images.paths, encoder.embeddings, encoder.losses
        source = {"source": "simclr trained on FOLDER", "image_size": IMAGE_SIZE, "settings": encoder.settings}
    else:
        row_of = {path: row for row, path in enumerate(user.paths)}
        kept = [path for path in images.paths if path in row_of]
        for path in images.paths:
            if path not in row_of:
                images.skipped[path] = f"no vector in {Path(request.embeddings).name}"
        paths, features = kept, user.vectors[[row_of[p] for p in kept]]
        source = {"source": Path(request.embeddings).name, "dimensions": int(features.shape[1])}
        if not paths:
            raise SelectError(f"--embeddings: {Path(request.embeddings).name} has a vector for no usable image")
    position = {path: i for i, path in enumerate(paths)}
    stand_in = {copy: kept for kept, copies in images.duplicates.items() for copy in copies}
    labeled = sorted({position[stand_in.get(p, p)] for p in labeled_names if stand_in.get(p, p) in position})
    if len(labeled) < len(labeled_names):
        notes.append(
            f"{len(labeled_names) - len(labeled)} of the {len(labeled_names)} labeled images are copies of "
            f"another labeled image or were skipped; {len(labeled)} count as labeled"
        )
    budget = min(request.budget, len(paths) - len(labeled))
    if budget < request.budget:
        notes.append(
            f"the budget {request.budget} is capped at {budget}: only {len(paths) - len(labeled)} unique "
            f"readable unlabeled images are left"
        )
    if budget < 1:
        raise SelectError("--labeled: every usable image of FOLDER is already labeled; nothing is left to rank")
    ranking = rank(
        features,
        budget,
        request.method,
        seeding.rng(request.seed, "select", request.method),
        labeled,
        n_clusters=request.clusters,
        scores=scores,
    )
    clusters, _ = kmeans_clusters(
        l2_normalize(features), min(request.clusters, len(features)), seeding.rng(request.seed, "select", "clusters")
    )
    table = selection_table(paths, ranking.order, clusters, ranking.gains)
    labeled_hash = hashlib.sha1("\n".join(sorted(labeled_names)).encode()).hexdigest()[:16]
    manifest = {
        "alnb_version": __version__,
        "command": "select",
        "method": request.method,
        "options": ranking.options,
        "objective": ranking.objective,
        "seed": request.seed,
        "budget": request.budget,
        "ranked": int(budget),
        "clusters": request.clusters,
        "folder": listing.root.resolve().name,
        "listing_hash": listing.listing_hash,
        "images_listed": len(listing.paths),
        "images_ranked_from": len(paths),
        "skipped": len(images.skipped),
        "embeddings": {**source, "hash": array_hash(features)},
        "labeled": {"file": Path(request.labeled).name, "count": len(labeled), "hash": labeled_hash}
        if request.labeled
        else None,
    }
    write_outputs(out, table, listing.root.resolve().name, manifest)
    return Selection(
        request,
        listing,
        images,
        paths,
        features,
        np.asarray(labeled, dtype=np.int64),
        ranking,
        clusters,
        table,
        _map_2d(features, request.seed),
        manifest,
        notes,
    )


def request_dict(request: SelectRequest) -> dict:
    """The request as notebook parameters."""
    return asdict(request)


def random_order_objective(selection: Selection) -> np.ndarray:
    """The ranking's objective over the prefixes of a seeded random order of the same unlabeled images (for
    scale in the report)."""
    from alnb.select.objectives import prefix_objective

    ranking = selection.ranking
    unlabeled = np.setdiff1d(np.arange(len(selection.paths)), selection.labeled)
    order = seeding.rng(selection.request.seed, "select", "random-order").permutation(unlabeled)[: len(ranking.order)]
    values, _ = prefix_objective(
        selection.features,
        order,
        selection.labeled,
        ranking.objective,
        bandwidth=ranking.options.get("objective_bandwidth", 1.0),
        delta=ranking.options.get("delta"),
    )
    return values
