"""Decoding: turning a model's next-token distributions into sequences.

Every decoder here drives a *step function*, ``step(tokens, state) -> (logits,
state)``: ``tokens`` (B,) are the previous outputs, ``logits`` (B, V) score the next
token, and ``state`` is whatever the model carries (an RNN's ``h`` (layers, B, H), an
LSTM's ``(h, c)``, plus e.g. encoder outputs), with the batch on axis
``state_batch_axis`` of each array. The decoders run under :func:`rnnlab.no_grad`.

* :func:`greedy`: the most probable token at every step.
* :func:`sample`: a random token, from the distribution sharpened or flattened by a
  temperature, and cut to the ``top_k`` tokens or the smallest set with probability
  ``top_p`` (nucleus sampling, Holtzman et al. 2020).
* :func:`beam_search`: the ``beam_size`` best prefixes at every step, finished ones set
  aside at ``eos``; the result maximises :math:`\\log P(y) / |y|^\\alpha`, the length
  normalisation of Wu et al. (2016) (``alpha = 0``: plain log-probability, which
  favours short outputs).
"""

from __future__ import annotations

import numpy as np

from . import backend
from .module import no_grad
from .nn.functional import log_softmax


def _select(state, index, axis: int):
    """``state`` with its batch rows picked (and repeated) by ``index``."""
    if isinstance(state, (tuple, list)):
        return type(state)(_select(s, index, axis) for s in state)
    if isinstance(state, dict):
        return {k: _select(s, index, axis) for k, s in state.items()}
    if not hasattr(state, "ndim"):  # None, numbers: the same for every beam
        return state
    xp = backend.array_module(state)
    return xp.take(state, xp.asarray(index), axis=axis)


def _log_probs(step, tokens, state, device):
    logits, state = step(backend.to_device(tokens, device), state)
    return backend.to_numpy(log_softmax(logits.astype(np.float64))), state


def _check(bos, eos, max_len, size, size_name="batch_size"):
    if not (isinstance(max_len, int) and max_len >= 1):
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}")
    if not (isinstance(size, int) and size >= 1):
        raise ValueError(f"{size_name} must be a positive integer, got {size!r}")
    for name, v in (("bos", bos), ("eos", eos)):
        if v is not None and not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be a token id (int), got {v!r}")


def _trim(row, eos):
    """A decoded row up to (not including) its first ``eos``."""
    out = []
    for t in row:
        if eos is not None and t == eos:
            break
        out.append(int(t))
    return out


def greedy(
    step,
    state,
    *,
    bos: int,
    eos: int | None,
    max_len: int,
    batch_size: int,
    device: str = "cpu",
) -> list[list[int]]:
    """The most probable token at every step, for ``batch_size`` sequences at once.

    Returns one token list per sequence, without ``bos`` and ``eos``.
    """
    _check(bos, eos, max_len, batch_size)
    tokens = np.full(batch_size, bos, dtype=np.int64)
    rows, done = [], np.zeros(batch_size, dtype=bool)
    with no_grad():
        for _ in range(max_len):
            logp, state = _log_probs(step, tokens, state, device)
            tokens = logp.argmax(axis=1)
            rows.append(tokens)
            done |= tokens == eos
            if done.all():
                break
    return [_trim(r, eos) for r in np.array(rows).T]


def _filter(logp, top_k, top_p):
    """Log-probabilities with all but the ``top_k`` / nucleus tokens set to -inf.

    ``top_k`` first; the nucleus is then taken on the renormalised remainder.
    """
    logp = logp.copy()
    if top_k is not None and top_k < logp.shape[1]:
        kth = np.sort(logp, axis=1)[:, -top_k][:, None]
        logp[logp < kth] = -np.inf
        logp = log_softmax(logp)
    if top_p is not None and top_p < 1:
        order = np.argsort(-logp, axis=1)
        p = np.exp(np.take_along_axis(logp, order, axis=1))
        # keep each token whose higher-ranked tokens hold less than top_p: the
        # smallest set with probability at least top_p (the tolerance keeps a sum
        # such as 0.6 + 0.3 from missing 0.9 by rounding)
        keep_sorted = np.cumsum(p, axis=1) - p < top_p - 1e-12
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        logp[~keep] = -np.inf
    return logp


def sample(
    step,
    state,
    *,
    bos: int,
    eos: int | None,
    max_len: int,
    batch_size: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    rng=None,
    device: str = "cpu",
) -> list[list[int]]:
    """Sample ``batch_size`` sequences: each token drawn from ``softmax(logits / T)``.

    Parameters
    ----------
    temperature : float > 0
        Below 1 sharpens the distribution, above 1 flattens it.
    top_k : int, optional
        Draw only among the ``top_k`` most probable tokens.
    top_p : float in (0, 1], optional
        Draw only from the nucleus: the smallest set of most probable tokens whose
        probability is at least ``top_p``.
    rng : numpy Generator, optional; default :func:`rnnlab.backend.rng` (seeded by
        :func:`rnnlab.seed`)
    """
    _check(bos, eos, max_len, batch_size)
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    if top_k is not None and not (isinstance(top_k, int) and top_k >= 1):
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    if top_p is not None and not (0 < top_p <= 1):
        raise ValueError(f"top_p must lie in (0, 1], got {top_p!r}")
    rng = backend.rng() if rng is None else rng
    tokens = np.full(batch_size, bos, dtype=np.int64)
    rows, done = [], np.zeros(batch_size, dtype=bool)
    with no_grad():
        for _ in range(max_len):
            logp, state = _log_probs(step, tokens, state, device)
            logp = _filter(log_softmax(logp / temperature), top_k, top_p)
            p = np.exp(logp - logp.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            cum = p.cumsum(axis=1)
            u = rng.random((batch_size, 1)) * cum[:, -1:]  # cum[-1] may round below 1
            tokens = (cum <= u).sum(axis=1)
            rows.append(tokens)
            done |= tokens == eos
            if done.all():
                break
    return [_trim(r, eos) for r in np.array(rows).T]


def beam_search(
    step,
    state,
    *,
    bos: int,
    eos: int,
    max_len: int,
    beam_size: int,
    alpha: float = 0.0,
    batch_size: int = 1,
    state_batch_axis: int = 1,
    device: str = "cpu",
) -> list[tuple[list[int], float]]:
    r"""Beam search for ``batch_size`` sequences at once: the best hypothesis of each.

    At every step each live prefix is extended by every token and, for each sequence,
    the ``beam_size`` best extensions by :math:`\log P` are kept; those that end in
    ``eos`` are set aside as finished and the rest live on, so the beam narrows as
    hypotheses finish (with ``beam_size=1`` this is greedy decoding). A sequence's
    search stops when none of its prefixes lives, when none can beat its best finished
    hypothesis, or after ``max_len`` tokens (its live prefixes then count as finished).
    Hypotheses are ranked by :math:`\log P(y) / |y|^\alpha` with :math:`|y|` counting
    ``eos``.

    The live prefixes of all sequences share one batch, grouped by sequence: the step
    function runs once per time step however many sequences are decoded, and the rows
    of a sequence whose search has stopped leave the batch.

    Parameters
    ----------
    state : the model's state for ``batch_size`` sequences, the batch on axis
        ``state_batch_axis`` of every array; its rows are repeated and reordered to
        follow the beams

    Returns
    -------
    list of ``(tokens, score)``, one per sequence: ``tokens`` without ``bos`` and
    ``eos``, ``score`` the rank above
    """
    _check(bos, eos, max_len, beam_size, "beam_size")
    _check(bos, eos, max_len, batch_size)
    if eos is None:
        raise ValueError("beam_search needs an eos token to end hypotheses")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a non-negative number, got {alpha!r}")

    def rank(logp, length):
        return logp / length**alpha

    # the live hypotheses, one per state row, grouped by the sequence that owns them;
    # a prefix is kept as back-pointers: history[k] holds the token and the parent row
    # (among the rows of step k) of every row of step k + 1
    owner, scores = np.arange(batch_size), np.zeros(batch_size)
    history = []
    # per sequence: (step, row, last token or None, log P with eos, length)
    finished = [[] for _ in range(batch_size)]
    best_done = np.full(batch_size, -np.inf)  # the best finished rank of each
    tokens = np.full(batch_size, bos, dtype=np.int64)
    with no_grad():
        for t in range(1, max_len + 1):
            logp, state = _log_probs(step, tokens, state, device)
            if logp.shape[0] != len(owner):
                raise ValueError(
                    f"step returned logits for {logp.shape[0]} rows, expected "
                    f"{len(owner)}: state must hold batch_size = {batch_size} "
                    f"sequences on axis {state_batch_axis}"
                )
            V = logp.shape[1]
            # each live sequence's rows side by side, (B, K, V), padded with -inf
            seqs, first, count = np.unique(owner, return_index=True, return_counts=True)
            K = count.max()
            slot = np.arange(K)
            real = slot < count[:, None]  # (B, K)
            row = np.where(real, first[:, None] + slot, 0)
            total = np.where(real[..., None], scores[row, None] + logp[row], -np.inf)
            total = total.reshape(len(seqs), -1)
            best = _top(total, beam_size)  # ties keep row order
            parent, token = np.divmod(best, V)
            picked = np.take_along_axis(real, parent, axis=1)
            logp_new = np.take_along_axis(total, best, axis=1)
            parent = row[np.arange(len(seqs))[:, None], parent]  # state rows
            ends = picked & (token == eos)
            for i, j in zip(*np.nonzero(ends)):
                b = seqs[i]
                finished[b].append((t - 1, parent[i, j], None, logp_new[i, j], t))
                best_done[b] = max(best_done[b], rank(logp_new[i, j], t))
            live = picked & (token != eos)
            # log P only falls as a prefix grows and its length is at most max_len,
            # so no live prefix can rank above max(log P) / max_len**alpha
            best_live = np.where(live, logp_new, -np.inf).max(axis=1) / max_len**alpha
            going = live.any(axis=1) & (best_done[seqs] < best_live)
            if t == max_len:  # the live prefixes of the unbeaten finish here
                for i, j in zip(*np.nonzero(live & going[:, None])):
                    finished[seqs[i]].append(
                        (t - 1, parent[i, j], int(token[i, j]), logp_new[i, j], t)
                    )
                break
            keep = live & going[:, None]  # row-major: grouped by sequence, by rank
            if not keep.any():
                break
            rows, tokens = parent[keep], token[keep].astype(np.int64)
            history.append((tokens, rows))
            owner = np.repeat(seqs, keep.sum(axis=1))
            scores = logp_new[keep]
            state = _select(state, rows, state_batch_axis)

    def prefix(k, r):
        """The tokens of row r of step k, by following its back-pointers."""
        out = []
        for tokens_k, parents_k in reversed(history[:k]):
            out.append(int(tokens_k[r]))
            r = parents_k[r]
        return out[::-1]

    out = []
    for hyps in finished:
        k, r, last, logp, length = max(hyps, key=lambda f: rank(f[3], f[4]))
        best = prefix(k, r) + ([] if last is None else [last])
        out.append((best, float(rank(logp, length))))
    return out


def _top(total, k: int):
    """Column indices of the ``k`` largest entries of each row, largest first; ties in
    column order (as a stable sort of all of them would give)."""
    if k >= total.shape[1]:
        return np.argsort(-total, axis=1, kind="stable")
    part = np.argpartition(-total, k - 1, axis=1)[:, :k]
    order = np.lexsort((part, -np.take_along_axis(total, part, axis=1)))
    return np.take_along_axis(part, order, axis=1)
