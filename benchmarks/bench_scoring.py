"""Scoring the unlabeled pool: alnb's one inference pass against the two augmented passes of older toolkits.

A query method needs the class probabilities of the whole pool and often its embeddings too (Coreset,
BADGE, TypiClust). Both sides use the same trained-from-seed small CNN, one torch thread each:

* alnb: :class:`alnb.models.training.TrainedModels` — one ``inference_mode`` pass over the in-memory pool
  (channels_last, batches of 128 on a CPU, 1,024 on a GPU) gives the embeddings, and the probabilities
  are the head applied to them.
* baseline: one DataLoader pass for the probabilities and another for the embeddings, in batches of 64,
  each through the training transform (``RandomHorizontalFlip, ToTensor, Normalize`` on PIL images), as
  the older toolkits score; the better of 0 and 2 workers.

    python benchmarks/bench_scoring.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from bench_training import BATCH_SIZE, dataloader, synthetic_dataset  # noqa: E402
from timing import Row, side_by_side  # noqa: E402

POOL = 5_000


def baseline_scores(model, loader_probs, loader_embed) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    with torch.no_grad():
        probs = torch.cat([F.softmax(model(x), dim=1) for x, _ in loader_probs]).numpy()
        embeddings = torch.cat([model.embed(x) for x, _ in loader_embed]).numpy()
    return probs, embeddings


def rows() -> list[Row]:
    from alnb.models.networks import build_classifier
    from alnb.models.training import ImageTensors, TrainedModels, fresh_classifier, scoring_batch_size
    from alnb.run.validation import params_from_dict

    torch.set_num_threads(1)
    dataset = synthetic_dataset("mnist_shaped", POOL, 1, 28)
    params = params_from_dict({"model": {"arch": "smallcnn"}})
    data = ImageTensors(dataset, torch.device("cpu"))
    model = fresh_classifier(data, params, dataset.n_classes, seed=0).eval()
    pool = np.arange(POOL)
    batch = scoring_batch_size(params.training, data.device)

    def alnb_scores():
        outputs = TrainedModels([model], data, pool, dataset.n_classes, batch, seed=0)
        return outputs.probs(pool), outputs.embeddings(pool)

    candidates = {"alnb": alnb_scores}
    for workers in (0, 2):
        base = build_classifier("smallcnn", 1, 28, dataset.n_classes, 0.3, seed=0)
        loaders = [dataloader(dataset, workers, True, BATCH_SIZE) for _ in range(2)]
        candidates[f"workers={workers}"] = (lambda m, ls: lambda: baseline_scores(m, *ls))(base, loaders)
    seconds = side_by_side(candidates, repeats=3)
    best = min(("workers=0", "workers=2"), key=seconds.get)
    return [
        Row(
            "scoring: probs + embeddings of a 28×28 pool, small CNN",
            seconds["alnb"],
            seconds[best],
            "s",
            f"pool of {POOL:,} images; baseline {best}; median of 3",
        )
    ]


if __name__ == "__main__":
    for row in rows():
        print(row)
