"""Text that ships with Python, and splitting a token stream."""

from __future__ import annotations

import numpy as np


def load_pydoc_corpus(max_chars: int | None = None) -> str:
    """English prose that ships with every CPython: the topic help of ``pydoc_data``.

    About 460,000 characters (the language reference's topics), joined in a stable
    order. No network needed.
    """
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[k].strip() for k in sorted(topics))
    return text if max_chars is None else text[:max_chars]


def train_val_split(
    ids: np.ndarray, val_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Split a token stream into a leading training and a trailing validation part."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]
