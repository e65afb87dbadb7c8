"""BADGE: k-means++ seeding on gradient embeddings (Ash, Zhang, Krishnamurthy, Langford, Agarwal, ICLR 2020).

The gradient of the cross-entropy at the predicted label ``ŷ`` with respect to the last layer's
weights is ``g_x = a_x ⊗ h_x`` with ``a_x = p_x − onehot(ŷ_x)`` and ``h_x`` the penultimate
features. ``g`` has ``C · d`` entries per sample (5 · 10⁴ × 100 × 512 floats for CIFAR-100), so it is
never built: ``⟨g_x, g_y⟩ = (a_x · a_y)(h_x · h_y)``, hence

    ‖g_x − g_y‖² = ‖a_x‖²‖h_x‖² + ‖a_y‖²‖h_y‖² − 2 (a_x · a_y)(h_x · h_y),

and the distances of all samples to one chosen sample cost one product with ``[N, C]`` and one
with ``[N, d]``.
"""

from __future__ import annotations

import numpy as np
import torch

from alnb.core.threads import one_cpu_thread


def gradient_embedding_factors(probs: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a, h)`` with ``a = p − onehot(argmax p)`` ``[N, C]`` and ``h = features`` ``[N, d]``; ``g_x = a_x ⊗ h_x``."""
    a = np.array(probs, dtype=np.float32)
    a[np.arange(len(a)), a.argmax(axis=1)] -= 1.0
    return a, np.asarray(features, dtype=np.float32)


def outer_kmeans_pp_seeding(
    a: np.ndarray, h: np.ndarray, k: int, rng: np.random.Generator, device: str | torch.device = "cpu"
) -> np.ndarray:
    """Positions of ``k`` rows of ``g = a ⊗ h`` chosen by k-means++ seeding (Arthur & Vassilvitskii, SODA 2007).

    The first is the row of largest norm (BADGE's rule; ties: lowest position); each next one is drawn
    with ``rng`` with probability proportional to its squared distance to the nearest chosen row. If
    every remaining row coincides with a chosen one, the next is drawn uniformly among the unchosen.
    """
    n = len(a)
    if not 0 <= k <= n:
        raise ValueError(f"cannot pick {k} of {n} candidates")
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    a_t = torch.as_tensor(a, device=device).to(torch.float32)
    h_t = torch.as_tensor(h, device=device).to(torch.float32)
    chosen = np.zeros(n, dtype=bool)
    with one_cpu_thread(a_t.device):
        g_sq = (a_t * a_t).sum(dim=1) * (h_t * h_t).sum(dim=1)
        picks = [int(torch.argmax(g_sq))]
        nearest_sq = torch.full((n,), float("inf"), device=a_t.device, dtype=torch.float32)
        while len(picks) < k:
            last = picks[-1]
            chosen[last] = True
            to_last = (g_sq + g_sq[last] - 2.0 * (a_t @ a_t[last]) * (h_t @ h_t[last])).clamp_min_(0.0)
            nearest_sq = torch.minimum(nearest_sq, to_last)
            weights = nearest_sq.double().cpu().numpy()
            weights[chosen] = 0.0
            total = weights.sum()
            if total > 0:
                picks.append(int(rng.choice(n, p=weights / total)))
            else:
                picks.append(int(rng.choice(np.flatnonzero(~chosen))))
    return np.asarray(picks, dtype=np.int64)


def badge_select(
    probs: np.ndarray, features: np.ndarray, k: int, rng: np.random.Generator, device: str | torch.device = "cpu"
) -> np.ndarray:
    """BADGE's ``k`` positions from softmax ``probs`` ``[N, C]`` and penultimate ``features`` ``[N, d]``."""
    a, h = gradient_embedding_factors(probs, features)
    return outer_kmeans_pp_seeding(a, h, k, rng, device)
