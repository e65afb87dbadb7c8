"""``alnb select``: from a folder of images to a ranking and its files.

:func:`check_request` checks every argument and input file before any compute and writes nothing; a problem
raises one :class:`~alnb.select.folder.SelectError` line naming the argument or file. :func:`run_selection`
runs it once, then lists and decodes the folder (cached), computes or reads the embeddings (cached by encoder,
weights hash and listing), ranks each group of near-duplicates once, ranks, forecasts whether selection helps,
and writes the ranking's files (:mod:`alnb.select.outputs`) and what the report reads
(:func:`alnb.select.selection.save_selection`). Caches live in ``<out>/cache/``, never inside FOLDER.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alnb.core import seeding
from alnb.select.embeddings import IMAGE_SIZE, UserEmbeddings, array_hash, load_user_embeddings, ssl_encoder
from alnb.select.encoders import (
    DEFAULT_ENCODER,
    LABEL_FREE,
    EncoderChoice,
    check_encoder,
    embed_files,
    load_encoder,
    parse_encoder,
)
from alnb.select.folder import Images, Listing, SelectError, decode_images, leaves_folder, list_images
from alnb.select.forecast import forecast
from alnb.select.near_duplicates import NEAR_DUPLICATE_COSINE, near_duplicate_groups
from alnb.select.outputs import selection_table, write_outputs
from alnb.select.ranking import check_method, rank
from alnb.select.selection import Selection, SelectRequest, save_selection

MAP_POINTS = 20_000

__all__ = ["MAP_POINTS", "SelectRequest", "Selection", "check_request", "run_selection"]


@dataclass(frozen=True)
class Checked:
    """What :func:`check_request` established: the folder's listing, the labeled paths, the user's embeddings
    (or None), the encoder and where its weights come from."""

    listing: Listing
    labeled: list[str]
    user: UserEmbeddings | None
    encoder: EncoderChoice
    weights_source: str


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


def check_request(request: SelectRequest) -> Checked:
    """Every argument checked before any compute (the encoder's weights included: cached, downloadable or
    refused); nothing is loaded or written."""
    listing = list_images(request.folder)
    if not isinstance(request.budget, (int, np.integer)) or not 0 < request.budget <= len(listing.paths):
        raise SelectError(f"--budget: {request.budget} is outside [1, {len(listing.paths)}] (the images in FOLDER)")
    encoder = parse_encoder(request.encoder)
    if request.embeddings and (encoder.text != DEFAULT_ENCODER or request.weights):
        raise SelectError("--encoder/--weights: not with --embeddings (your vectors stand for the encoder)")
    check_method(request.method, has_scores=request.embeddings is None and encoder.text == "ssl")
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
    weights_source = "--embeddings" if user is not None else check_encoder(encoder, request.weights)
    return Checked(listing, labeled, user, encoder, weights_source)


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
    """A 2-D PCA of the L2-normalised features (fitted on at most ``MAP_POINTS`` rows)."""
    from sklearn.decomposition import PCA

    from alnb.methods.geometry import l2_normalize

    x = l2_normalize(features)
    rng = seeding.rng(seed, "select", "map")
    fit = x if len(x) <= MAP_POINTS else x[rng.choice(len(x), MAP_POINTS, replace=False)]
    return PCA(2, random_state=seeding.stream_seed(seed, "select", "map") % 2**31).fit(fit).transform(x)


def _cached_vectors(file: Path, compute) -> np.ndarray:
    """float32 vectors from ``file`` when cached, else ``compute()`` saved there (atomically)."""
    from alnb.core.durable import atomic_save_npz

    if file.is_file():
        with np.load(file, allow_pickle=False) as saved:
            return saved["vectors"]
    vectors = np.asarray(compute(), dtype=np.float32)
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_save_npz(file, vectors=vectors)
    return vectors


def _embed(request: SelectRequest, checked: Checked, images: Images, cache: Path, log):
    """(the rows' paths, their features, SimCLR's per-image losses or None, the manifest's record of them)."""
    from alnb.models.networks import resolve_device

    user, encoder = checked.user, checked.encoder
    if user is not None:
        row_of = {path: row for row, path in enumerate(user.paths)}
        kept = [path for path in images.paths if path in row_of]
        for path in images.paths:
            if path not in row_of:
                images.skipped[path] = f"no vector in {Path(request.embeddings).name}"
        if not kept:
            raise SelectError(f"--embeddings: {Path(request.embeddings).name} has a vector for no usable image")
        features = user.vectors[[row_of[p] for p in kept]]
        return kept, features, None, {"source": Path(request.embeddings).name, "dimensions": int(features.shape[1])}
    listing_hash = checked.listing.listing_hash
    if encoder.text == "ssl":
        trained = ssl_encoder(images.pixels, listing_hash, cache, request.seed, log)
        source = {"source": "simclr trained on FOLDER", "encoder": "ssl", "image_size": IMAGE_SIZE}
        return images.paths, trained.embeddings, trained.losses, {**source, "settings": trained.settings}
    device = resolve_device("auto")
    if not encoder.pretrained:
        key = hashlib.sha1(f"{encoder.text}|{listing_hash}|{IMAGE_SIZE}|{request.seed}".encode()).hexdigest()[:16]
        pixels = np.ascontiguousarray(images.pixels.transpose(0, 2, 3, 1))
        log(f"[alnb select] embedding {len(pixels):,} images with {encoder.text} on {device.type}")
        features = _cached_vectors(
            cache / f"embeddings_{key}.npz", lambda: LABEL_FREE[encoder.text].embed(pixels, request.seed, device)
        )
        source = {"source": LABEL_FREE[encoder.text].description, "encoder": encoder.text, "image_size": IMAGE_SIZE}
        return images.paths, features, None, source
    model = load_encoder(encoder, request.weights, device)
    key = hashlib.sha1(f"{encoder.text}|{model.weights_hash}|{listing_hash}".encode()).hexdigest()[:16]
    log(f"[alnb select] embedding {len(images.paths):,} images with {encoder.text} on {device.type}")
    features = _cached_vectors(
        cache / f"embeddings_{key}.npz", lambda: embed_files(model, checked.listing.root, images.paths, device)
    )
    source = {"source": f"{encoder.text} ({model.weights_source})", "encoder": encoder.text}
    return images.paths, features, None, {**source, "weights_hash": model.weights_hash}


def _drop_near_duplicates(paths, features, scores, images: Images, seed: int):
    """(paths, features, scores) with each group of near-duplicates ranked once; the groups (kept path → the
    others), each of the others recorded as skipped."""
    groups = near_duplicate_groups(features, seeding.rng(seed, "select", "near-duplicates"))
    if not groups:
        return paths, features, scores, {}
    copies = np.asarray(sorted(row for rows in groups.values() for row in rows))
    keep = np.setdiff1d(np.arange(len(paths)), copies)
    for kept, rows in groups.items():
        for row in rows:
            images.skipped[paths[row]] = f"a near-duplicate of {paths[kept]} (cosine ≥ {NEAR_DUPLICATE_COSINE})"
    named = {paths[kept]: [paths[row] for row in rows] for kept, rows in groups.items()}
    return [paths[i] for i in keep], features[keep], None if scores is None else np.asarray(scores)[keep], named


def run_selection(request: SelectRequest, log=print, checked: Checked | None = None) -> Selection:
    """Check ``request`` (once: ``checked`` is :func:`check_request`'s answer when the caller already asked it),
    rank FOLDER's images under it and write the ranking's files and what the report reads into the output folder."""
    from alnb import __version__
    from alnb.methods.geometry import l2_normalize
    from alnb.methods.pools.clustering import kmeans_clusters

    checked = checked or check_request(request)
    listing, labeled_names = checked.listing, checked.labeled
    out = request.out_path
    cache = out / "cache"
    images = _cached_images(listing, cache, decode=checked.user is None)
    notes: list[str] = []
    paths, features, scores, source = _embed(request, checked, images, cache, log)
    near: dict[str, list[str]] = {}
    if not request.keep_duplicates:
        paths, features, scores, near = _drop_near_duplicates(paths, features, scores, images, request.seed)
    position = {path: i for i, path in enumerate(paths)}
    groups = {**images.duplicates, **{k: near.get(k, []) + images.duplicates.get(k, []) for k in near}}
    stand_in = {copy: kept for kept, copies in groups.items() for copy in copies}
    stand_in = {copy: stand_in.get(kept, kept) for copy, kept in stand_in.items()}  # a copy of a near-duplicate
    labeled = sorted({position[stand_in.get(p, p)] for p in labeled_names if stand_in.get(p, p) in position})
    if len(labeled) < len(labeled_names):
        notes.append(
            f"{len(labeled_names) - len(labeled)} of the {len(labeled_names)} labeled images are copies or "
            f"near-duplicates of another labeled image or were skipped; {len(labeled)} count as labeled"
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
    labeled = np.asarray(labeled, dtype=np.int64)
    outlook = forecast(features, ranking, labeled, request.seed)
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
        "near_duplicates": None
        if request.keep_duplicates
        else {"cosine_at_least": NEAR_DUPLICATE_COSINE, "groups": len(near), "dropped": sum(map(len, near.values()))},
        "forecast_z": round(outlook.z, 3),
        "embeddings": {**source, "hash": array_hash(features)},
        "labeled": {"file": Path(request.labeled).name, "count": len(labeled), "hash": labeled_hash}
        if request.labeled
        else None,
    }
    write_outputs(out, table, listing.root.resolve().name, manifest)
    selection = Selection(
        request,
        listing,
        images,
        paths,
        features,
        labeled,
        ranking,
        clusters,
        table,
        _map_2d(features, request.seed),
        manifest,
        outlook,
        near,
        notes,
    )
    save_selection(selection)
    return selection
