"""A grapheme-to-phoneme baseline without a network: letters aligned to phonemes by EM,
then each letter's phonemes from its context (:class:`LetterContextG2P`).

The decoding chapter's model has to beat it; :mod:`rnnlab.course.g2p` records both.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class LetterContextG2P:
    """Letters aligned to phonemes by EM, then each letter's phonemes from its context.

    1. **Alignment.** Each letter emits 0, 1 or 2 phonemes, in order; the emission
       probabilities :math:`p(c \\mid \\ell)` (``c`` empty, one phoneme or a pair) are
       fitted by EM over all monotone alignments of every training pair (a
       forward-backward over the (letters x phonemes) lattice, words of the same
       lengths together), then each pair gets its most probable alignment (Viterbi).
       Pairs with more than two phonemes a letter (``x`` -> ``EH1 K S``) are skipped.
    2. **Prediction.** For every letter, the windows of up to ``context`` letters on
       either side (``#`` beyond the word) that were seen at least ``min_count``
       times in training vote: the widest wins, ties to the more often seen, and the
       letter emits that window's most frequent phonemes. The word's pronunciation is
       the letters' emissions in order.

    A letter n-gram model in the spirit of the joint-sequence models of Bisani and Ney
    (2008), much simpler: no joint n-gram over the output, so neighbouring choices
    (stress above all) are not coordinated.
    """

    def __init__(self, context: int = 4, iterations: int = 5, min_count: int = 1):
        if not (isinstance(context, int) and 0 <= context <= 4):
            raise ValueError(f"context must be an integer in [0, 4], got {context!r}")
        self.context, self.iterations, self.min_count = context, iterations, min_count

    # chunks: 0 is empty, 1 + a one phoneme, 1 + V + a * V + b the pair (a, b)
    def _chunk(self, c: int) -> list[str]:
        V = len(self.phonemes)
        if c == 0:
            return []
        if c <= V:
            return [self.phonemes[c - 1]]
        a, b = divmod(c - 1 - V, V)
        return [self.phonemes[a], self.phonemes[b]]

    def fit(self, words, pronunciations) -> "LetterContextG2P":
        """Fit on parallel lists of letter lists and phoneme lists (one pair each)."""
        self.letters = sorted({x for w in words for x in w})
        self.phonemes = sorted({p for t in pronunciations for p in t})
        L = {x: i for i, x in enumerate(self.letters)}
        P = {p: i for i, p in enumerate(self.phonemes)}
        V = len(self.phonemes)
        groups = defaultdict(list)
        for k, (w, t) in enumerate(zip(words, pronunciations)):
            if len(t) <= 2 * len(w):
                groups[len(w), len(t)].append(k)
        self.skipped = len(words) - sum(map(len, groups.values()))
        lattices = []
        for (n, m), idx in groups.items():
            li = np.array([[L[x] for x in words[k]] for k in idx]).reshape(-1, n)
            ph = np.array([[P[p] for p in pronunciations[k]] for k in idx])
            ph = ph.reshape(-1, m)
            c1 = np.full((len(idx), m + 1), -1)  # the chunk ending at lattice column j
            c2 = np.full((len(idx), m + 1), -1)
            c1[:, 1:] = 1 + ph
            c2[:, 2:] = 1 + V + ph[:, :-1] * V + ph[:, 1:]
            lattices.append((li, c1, c2))
        # start with pairs rare (1 % of each letter's mass): from a uniform start EM
        # drifts to pairs that swallow a neighbour's phoneme (c -> K AE in 'cat')
        theta = np.full((len(self.letters), 1 + V + V * V), 0.99 / (1 + V))
        theta[:, 1 + V :] = 0.01 / V**2
        for _ in range(self.iterations):
            counts = sum(self._expected_counts(theta, *lat) for lat in lattices)
            theta = counts / np.maximum(counts.sum(1, keepdims=True), 1e-300)
        self.emission = theta
        rows = [self._viterbi(theta, *lat) for lat in lattices]
        n = max(ids.shape[1] for ids, _ in rows)
        ids, chunks = (
            np.concatenate(
                [np.pad(r[j], ((0, 0), (0, n - r[j].shape[1]))) for r in rows]
            )
            for j in (0, 1)
        )
        self._fit_contexts(ids, chunks)
        return self

    @staticmethod
    def _emissions(theta, li, c1, c2, i):
        """Probabilities of the three moves at letter i: (B, 1), (B, m + 1) twice."""
        flat, row = theta.ravel(), li[:, i : i + 1] * theta.shape[1]
        e1 = np.where(c1 >= 0, flat[row + np.maximum(c1, 0)], 0)
        e2 = np.where(c2 >= 0, flat[row + np.maximum(c2, 0)], 0)
        return flat[row], e1, e2

    def _expected_counts(self, theta, li, c1, c2):
        (B, n), m = li.shape, c1.shape[1] - 1
        alpha, ems = np.zeros((n + 1, B, m + 1)), []
        alpha[0, :, 0] = 1
        for i in range(n):
            e0, e1, e2 = em = self._emissions(theta, li, c1, c2, i)
            ems.append(em)
            alpha[i + 1] = alpha[i] * e0
            alpha[i + 1, :, 1:] += alpha[i, :, :-1] * e1[:, 1:]
            alpha[i + 1, :, 2:] += alpha[i, :, :-2] * e2[:, 2:]
        Z = alpha[n, :, m]
        beta = np.zeros((B, m + 1))
        beta[:, m] = np.where(Z > 0, 1 / np.where(Z > 0, Z, 1), 0)
        counts = np.zeros(theta.size)
        C = theta.shape[1]
        for i in range(n - 1, -1, -1):
            e0, e1, e2 = ems[i]
            base = li[:, i : i + 1] * C
            w0 = (alpha[i] * e0 * beta).sum(1)
            counts += np.bincount(base[:, 0], w0, minlength=theta.size)
            for k, e, c in ((1, e1, c1), (2, e2, c2)):
                w = alpha[i, :, :-k] * e[:, k:] * beta[:, k:]
                counts += np.bincount(
                    (base + np.maximum(c[:, k:], 0)).ravel(), w.ravel(), theta.size
                )
            new = beta * e0
            new[:, :-1] += beta[:, 1:] * e1[:, 1:]
            new[:, :-2] += beta[:, 2:] * e2[:, 2:]
            beta = new
        return counts.reshape(theta.shape)

    def _viterbi(self, theta, li, c1, c2):
        """Letter ids (B, n) + 1 and each letter's chunk (B, n) on the best path."""
        (B, n), m = li.shape, c1.shape[1] - 1
        with np.errstate(divide="ignore"):
            logt = np.log(theta)
        score = np.full((B, m + 1), -np.inf)
        score[:, 0] = 0
        back = np.zeros((n, B, m + 1), dtype=np.int8)
        for i in range(n):
            e0, e1, e2 = self._emissions(logt, li, c1, c2, i)
            cand = np.full((3, B, m + 1), -np.inf)
            cand[0] = score + e0
            cand[1, :, 1:] = score[:, :-1] + e1[:, 1:]
            cand[2, :, 2:] = score[:, :-2] + e2[:, 2:]
            back[i] = cand.argmax(0)
            score = cand.max(0)
        chunks, j, rows = np.zeros((B, n), dtype=np.int64), np.full(B, m), np.arange(B)
        for i in range(n - 1, -1, -1):
            k = back[i, rows, j]
            chunks[:, i] = np.select([k == 1, k == 2], [c1[rows, j], c2[rows, j]], 0)
            j = j - k
        ok = np.isfinite(score[:, m])
        return li[ok] + 1, chunks[ok]

    def _windows(self, ids):
        """Per window (l, r): the key of every letter position's window, (P,) each."""
        K = self.context
        n = ids.shape[1]
        padded = np.pad(ids, ((0, 0), (K, K)))  # 0 is the boundary '#'
        real = ids > 0
        base = len(self.letters) + 2  # '#', the letters, an unknown letter
        out = {}
        for left in range(K + 1):
            for right in range(K + 1):
                key = np.zeros(ids.shape, dtype=np.int64)
                for d in range(-left, right + 1):
                    key = key * base + padded[:, K + d : K + d + n]
                out[left, right] = key[real]
        return out

    def _fit_contexts(self, ids, chunks):
        self.tables = {}
        target = chunks[ids > 0]
        C = self.emission.shape[1]
        for window, key in self._windows(ids).items():
            pair, count = np.unique(key * C + target, return_counts=True)
            k, c = np.divmod(pair, C)
            order = np.lexsort((-count, k))  # by key, most frequent chunk first
            k, c, count = k[order], c[order], count[order]
            first = np.r_[True, k[1:] != k[:-1]]
            total = np.add.reduceat(count, np.flatnonzero(first))
            keep = total >= self.min_count
            self.tables[window] = (k[first][keep], c[first][keep], total[keep])

    def predict(self, words) -> list[list[str]]:
        """The pronunciation of each word (a list of letters), as a phoneme list."""
        L = {x: i + 1 for i, x in enumerate(self.letters)}
        n = max((len(w) for w in words), default=0)
        ids = np.zeros((len(words), n), dtype=np.int64)
        for i, w in enumerate(words):
            ids[i, : len(w)] = [L.get(x, len(L) + 1) for x in w]
        best = np.full((ids > 0).sum(), -1, dtype=np.int64)
        chunk = np.zeros_like(best)
        for (left, right), key in self._windows(ids).items():
            k, c, total = self.tables[left, right]
            if not len(k):
                continue
            at = np.minimum(np.searchsorted(k, key), len(k) - 1)
            seen = k[at] == key
            score = np.where(seen, (left + right) * 10**9 + total[at], -1)
            better = score > best
            best[better], chunk[better] = score[better], c[at][better]
        out, p = [], 0
        for w in words:
            out.append([ph for c in chunk[p : p + len(w)] for ph in self._chunk(c)])
            p += len(w)
        return out
