"""What makes an initial pool good: measurable properties of a pool, computed without its AL results.

For a pool P ⊂ U (positions into U) and an embedding of U:
- class coverage and the normalised entropy of its class histogram (labels are read for the analysis
  only, never to pick a pool);
- relative density: the mean typicality of P's points divided by that of a seeded random sample of U,
  where typicality(x) = 1 / mean distance from x to its k nearest neighbours in U (Hacohen et al. 2022);
  above 1, the pool sits in denser regions than a random pick;
- U-to-pool distance: the mean distance from each point of U to its nearest pool point (the k-center
  objective's average, Sener & Savarese 2018): small when the pool covers U.
Both distances use L2-normalised embeddings and blocks of rows, never an N×N matrix.
"""

from __future__ import annotations

import numpy as np
import torch

TYPICALITY_NEIGHBOURS = 20
REFERENCE_SAMPLE = 2000
BLOCK = 1024


def _normalised(features: np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def typicality(points: torch.Tensor, reference: torch.Tensor, k: int = TYPICALITY_NEIGHBOURS,
               exclude_self: bool = True) -> np.ndarray:
    """1 / mean distance of each point to its ``k`` nearest reference points (itself excluded)."""
    k = min(k, len(reference) - int(exclude_self))
    out = []
    for start in range(0, len(points), BLOCK):
        dist = torch.cdist(points[start:start + BLOCK], reference)
        nearest = dist.topk(k + int(exclude_self), dim=1, largest=False).values[:, int(exclude_self):]
        out.append(1.0 / nearest.mean(1).clamp_min(1e-12))
    return torch.cat(out).numpy()


def distance_to_pool(points: torch.Tensor, pool: torch.Tensor) -> np.ndarray:
    """Distance from each point to its nearest pool point."""
    return torch.cat([torch.cdist(points[s:s + BLOCK], pool).min(1).values
                      for s in range(0, len(points), BLOCK)]).numpy()


def pool_properties(positions: np.ndarray, labels: np.ndarray, features: np.ndarray, n_classes: int,
                    rng: np.random.Generator) -> dict[str, float]:
    """The properties above for one pool (``positions`` into U, ``labels`` and ``features`` of U)."""
    counts = np.bincount(labels[positions], minlength=n_classes)
    share = counts[counts > 0] / counts.sum()
    x = _normalised(features)
    sample = rng.choice(len(x), size=min(REFERENCE_SAMPLE, len(x)), replace=False)
    with torch.inference_mode():
        density = typicality(x[positions], x).mean() / typicality(x[sample], x).mean()
        spread = distance_to_pool(x, x[positions]).mean()
    return {"classes_covered": int((counts > 0).sum()),
            "class_entropy": float(-(share * np.log(share)).sum() / np.log(n_classes)),
            "relative_density": float(density), "u_to_pool_distance": float(spread)}


PROPERTY_LABELS = {
    "classes_covered": "classes covered",
    "class_entropy": "class-distribution entropy (normalised)",
    "relative_density": "relative density (typicality vs random)",
    "u_to_pool_distance": "mean distance from U to the pool",
    "cycle0_acc": "cycle-0 test accuracy",
}
