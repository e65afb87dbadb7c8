"""The files of a selection, each written atomically into the output folder.

* ``selection.csv``: rank (1 = label first), path relative to FOLDER, cluster (k-means on the embeddings, the
  report's clusters), gain (the pick's improvement of the method's objective; empty where undefined);
* ``to_label.txt``: the paths in rank order, one per line;
* ``label_studio_tasks.json``: Label Studio's JSON task list, ``[{"data": {"image": URL, ...}}, ...]``, in rank
  order. The URL is Label Studio's local-files form ``/data/local-files/?d=<FOLDER's name>/<path>``, which
  serves the image when Label Studio runs with ``LOCAL_FILES_SERVING_ENABLED=true`` and
  ``LOCAL_FILES_DOCUMENT_ROOT`` set to FOLDER's parent folder (and a local storage on FOLDER is added to
  the project); ``data`` also carries the rank and the relative path, and ``meta`` the rank again (Label
  Studio's Data Manager sorts by a ``data`` field: ``docs/select.md``);
* ``manifest.json``: alnb's version, method and options, seed, the hashes of the folder's listing and of the
  embeddings: the same inputs give the same ranking.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from alnb.core.durable import atomic_write_text

OUTPUT_FILES = ("selection.csv", "to_label.txt", "label_studio_tasks.json", "manifest.json")


def selection_table(paths: list[str], order: np.ndarray, clusters: np.ndarray, gains: np.ndarray) -> pd.DataFrame:
    """One row per pick: rank, path, cluster, gain."""
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "path": [paths[i] for i in order],
            "cluster": np.asarray(clusters)[order],
            "gain": gains,
        }
    )


def label_studio_tasks(table: pd.DataFrame, folder_name: str) -> list[dict]:
    """Label Studio tasks for the picks, in rank order (see the module's docstring for the URL)."""
    return [
        {
            "data": {
                "image": "/data/local-files/?d=" + quote(f"{folder_name}/{path}"),
                "path": path,
                "rank": int(rank),
            },
            "meta": {"rank": int(rank)},
        }
        for rank, path in zip(table["rank"], table["path"])
    ]


def write_outputs(out: Path, table: pd.DataFrame, folder_name: str, manifest: dict) -> list[Path]:
    """Write the four files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / name for name in OUTPUT_FILES]
    atomic_write_text(written[0], table.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(written[1], "".join(f"{path}\n" for path in table["path"]))
    atomic_write_text(written[2], json.dumps(label_studio_tasks(table, folder_name), indent=1, ensure_ascii=False))
    atomic_write_text(written[3], json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False))
    return written
