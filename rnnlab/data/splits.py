"""Fixed splits that depend on nothing but the item: a hash, not a seed or an order."""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def hash_split(key: str, val_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """``"train"``, ``"val"`` or ``"test"`` from a hash of ``key``.

    The split of an item never changes when others are added, removed or reordered,
    and copies of an item (same key) always land together.
    """
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64  # uniform in [0, 1)
    if u < test_fraction:
        return "test"
    return "val" if u < test_fraction + val_fraction else "train"
