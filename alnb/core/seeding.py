"""One seed per trial, split into independent, named random streams.

Each stream is derived from ``(seed, name, *keys)`` through :class:`numpy.random.SeedSequence`
with a stable hash of the name, so adding a stream, a strategy or a query method never shifts
another stream: the initial pool of ``(seed, "pool", "kmeans_equal")`` is the same whatever
query methods run after it.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch


def _entropy(seed: int, name: str, keys: tuple) -> list[int]:
    parts = [int(seed), zlib.crc32(name.encode())]
    for key in keys:
        parts.append(key if isinstance(key, int) and key >= 0 else zlib.crc32(str(key).encode()))
    return parts


def stream_seed(seed: int, name: str, *keys) -> int:
    """A 63-bit integer seed for stream ``name`` (e.g. "split", "pool", "init", "order", "query")."""
    state = np.random.SeedSequence(_entropy(seed, name, keys)).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)


def rng(seed: int, name: str, *keys) -> np.random.Generator:
    """A numpy Generator for stream ``name`` of trial ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(_entropy(seed, name, keys)))


def torch_generator(seed: int, name: str, *keys, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch Generator for stream ``name`` of trial ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(stream_seed(seed, name, *keys))
    return gen
