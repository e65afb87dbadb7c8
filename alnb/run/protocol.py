"""A study's protocol: the parameters that decide a trial's numbers (not which trials run, nor how they are
scheduled). The run directory records it (``RunStore.check_protocol``), so trials of other settings are never
mixed into it."""

from __future__ import annotations

import dataclasses

from alnb.core.config import StudyParams


def protocol(params: StudyParams) -> dict:
    """The protocol of ``params``.

    ``model.init`` is recorded only when it is not ``scratch``, and ``data.train_subset`` only when set, so
    run directories made before they existed keep their protocol."""
    p = params
    al = {k: v for k, v in dataclasses.asdict(p.al).items() if k not in ("seeds", "inits", "queries")}
    data = {
        k: v
        for k, v in dataclasses.asdict(p.data).items()  # verify and cache_dir decide no number;
        if k not in ("verify", "cache_dir") and (k != "train_subset" or v is not None)
    }  # nor an absent subset
    model = {k: v for k, v in dataclasses.asdict(p.model).items() if k != "init" or v != "scratch"}
    return {
        "data": data,
        "model": model,
        "training": dataclasses.asdict(p.training),
        "al": al,
        "pretext": dataclasses.asdict(p.pretext),
        "pool_options": p.pools.options,
        "device": p.device,
    }
