"""Decoding the per-frame outputs of a CTC model into label sequences.

* :func:`ctc_greedy`: the best path, the most probable class at every frame, with
  repeats merged and blanks dropped. Fast, and close to the best labelling when one
  path dominates.
* :func:`ctc_prefix_beam_search`: keeps the ``beam_size`` most probable *labellings*
  (prefixes), each with the summed probability of all the paths that produce it,
  split into paths ending in a blank and paths ending in its last label (Graves 2012,
  ch. 7; Hannun et al. 2014). A language model can join in (shallow fusion): each new
  label adds ``lm_weight`` times its log-probability under the language model, plus
  ``insertion_bonus``, which offsets the language model's preference for short outputs.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend

NEG_INF = -math.inf


def _lengths(log_probs, lengths):
    T, N = log_probs.shape[:2]
    if lengths is None:
        return np.full(N, T)
    lengths = np.asarray(lengths)
    if lengths.shape != (N,) or (lengths < 1).any() or (lengths > T).any():
        raise ValueError(f"lengths must be {N} integers in [1, {T}], got {lengths}")
    return lengths


def _check_scores(log_probs, name="log_probs"):
    if not (hasattr(log_probs, "ndim") and log_probs.ndim == 3):
        raise ValueError(
            f"{name} must have shape (T, N, C), got "
            f"{getattr(log_probs, 'shape', type(log_probs).__name__)}"
        )
    return backend.to_numpy(log_probs)


def ctc_greedy(log_probs, lengths=None, blank: int = 0) -> list[list[int]]:
    """Best-path decoding: argmax per frame, repeats merged, blanks removed.

    Parameters
    ----------
    log_probs : array, shape (T, N, C): log-probabilities or logits (argmax is the same)
    lengths : int array, shape (N,), optional: frames of each sequence
    blank : int

    Returns a list of N label lists.
    """
    best = _check_scores(log_probs).argmax(axis=2)  # (T, N)
    out = []
    for n, L in enumerate(_lengths(best[..., None], lengths)):
        path = best[:L, n]
        keep = np.ones(L, dtype=bool)
        keep[1:] = path[1:] != path[:-1]
        out.append([int(c) for c in path[keep] if c != blank])
    return out


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def ctc_prefix_beam_search(
    log_probs,
    beam_size: int = 8,
    blank: int = 0,
    lengths=None,
    lm=None,
    lm_weight: float = 0.0,
    insertion_bonus: float = 0.0,
    prune: float = -12.0,
) -> list[tuple[list[int], float]]:
    """Prefix beam search over CTC outputs, optionally with a language model.

    Parameters
    ----------
    log_probs : array, shape (T, N, C): per-frame log-probabilities (log-softmax)
    beam_size : int, labellings kept after each frame
    blank : int
    lengths : int array (N,), optional
    lm : callable ``lm(prefix, label) -> log p(label | prefix)``, optional
        ``prefix`` is a tuple of labels; called once per new (prefix, label) pair.
    lm_weight, insertion_bonus : float
        Each label appended adds ``lm_weight * lm(prefix, label) + insertion_bonus`` to
        the labelling's score (not to its CTC probability).
    prune : float
        Labels whose log-probability at a frame is below this are not tried there.

    Returns
    -------
    list of N ``(labels, log_p)``: the best labelling and its CTC log-probability
    summed over the paths the beam kept, a lower bound of the exact
    :math:`\\log p(l \\mid x)` (the total of the search's score without the language
    model).
    """
    lp = _check_scores(log_probs).astype(np.float64)
    if not (isinstance(beam_size, (int, np.integer)) and beam_size >= 1):
        raise ValueError(f"beam_size must be a positive integer, got {beam_size!r}")
    if lm is None and (lm_weight or insertion_bonus):
        raise ValueError("lm_weight and insertion_bonus need an lm")
    C = lp.shape[2]
    results = []
    for n, L in enumerate(_lengths(lp, lengths)):
        # prefix -> [log p(paths ending in blank), log p(paths ending in last label)]
        beams = {(): [0.0, NEG_INF]}
        bonus = {(): 0.0}  # prefix -> accumulated language-model score
        lm_cache = {}
        for t in range(L):
            frame = lp[t, n]
            labels = [c for c in range(C) if c != blank and frame[c] >= prune]
            nxt: dict = {}

            def add(prefix, pb, pnb):
                cur = nxt.setdefault(prefix, [NEG_INF, NEG_INF])
                cur[0], cur[1] = _logadd(cur[0], pb), _logadd(cur[1], pnb)

            for prefix, (pb, pnb) in beams.items():
                total = _logadd(pb, pnb)
                add(prefix, total + frame[blank], NEG_INF)  # a blank: same labelling
                last = prefix[-1] if prefix else None
                for c in labels:
                    p = frame[c]
                    ext = prefix + (c,)
                    if c == last:
                        add(prefix, NEG_INF, pnb + p)  # the repeat merges
                        add(ext, NEG_INF, pb + p)  # after a blank: a new label
                    else:
                        add(ext, NEG_INF, total + p)
                    if ext not in bonus:
                        if lm is not None:
                            key = (prefix, c)
                            if key not in lm_cache:
                                lm_cache[key] = float(lm(prefix, c))
                            s = lm_weight * lm_cache[key] + insertion_bonus
                        else:
                            s = 0.0
                        bonus[ext] = bonus[prefix] + s
            ranked = sorted(
                nxt.items(), key=lambda kv: _logadd(*kv[1]) + bonus[kv[0]], reverse=True
            )
            beams = dict(ranked[:beam_size])
        best, (pb, pnb) = max(
            beams.items(), key=lambda kv: _logadd(*kv[1]) + bonus[kv[0]]
        )
        results.append(([int(c) for c in best], _logadd(pb, pnb)))
    return results
