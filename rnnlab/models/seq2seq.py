"""An encoder-decoder (sequence to sequence) model with optional attention.

An encoder reads the source; its final state, through a bridge, starts a decoder that
generates the target one token at a time. With attention (Luong et al. 2015, "global"
attention, with any of three scores), every decoder state also looks at all the
encoder's outputs and mixes in what it finds before the read-out.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backend import array_module
from ..checks import check_float_array, check_int_array
from ..data.vocab import WordVocab
from ..decode import beam_search, greedy, sample
from ..module import Module, no_grad
from ..nn.attention import AdditiveAttention, MultiplicativeAttention
from ..nn.layers import Dropout, Embedding, Linear
from ..nn.sequences import pad_sequences
from .charlm import RECURRENT

ATTENTION = (None, "additive", "dot", "general")


class Seq2Seq(Module):
    r"""Encoder-decoder with (optional) global attention.

    .. math::

        o_{1:S}, h^{enc} = \operatorname{Enc}(E^{src} x_{1:S}), \qquad
        s_0 = \tanh(W_b h^{enc} + b_b) \;\; (\text{or } h^{enc}), \qquad
        s_t = \operatorname{Dec}(E^{tgt} y_{t-1}, s_{t-1})

        c_t = \sum_s \alpha_{t,s} o_s, \qquad
        \tilde s_t = \tanh(W_c [s_t; c_t] + b_c), \qquad
        p(y_t \mid y_{<t}, x) = \operatorname{softmax}(W_o \tilde s_t + b_o)

    Without attention, :math:`\tilde s_t = s_t`. The decoder is trained with teacher
    forcing: it reads the true previous token :math:`y_{t-1}`.

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size : int
    embedding_dim, hidden_size, num_layers : int
        The decoder has ``num_layers`` layers of ``hidden_size`` units, as the encoder
        (each direction).
    cell : ``'rnn'``, ``'irnn'``, ``'lstm'`` or ``'gru'`` (default)
    bidirectional : bool
        A bidirectional encoder (default). Its two final states per layer are joined
        and mapped to the decoder's by the bridge; a one-directional encoder's final
        state starts the decoder as it is.
    attention : ``None``, ``'additive'`` (default), ``'dot'`` or ``'general'``
        The score of :class:`rnnlab.AdditiveAttention` (attention size
        ``hidden_size``) or :class:`rnnlab.MultiplicativeAttention`; ``'dot'`` needs
        a one-directional encoder (its outputs must have the decoder's size).
    dropout : float
        Between recurrent layers and before the read-out, in training mode.
    dtype : parameter dtype

    ``forward(src, src_lengths, tgt_in) -> logits``: src (S, N) and tgt_in (T, N) ids,
    src_lengths (N,), logits (T, N, tgt_vocab_size). After a forward with attention,
    ``attention_weights`` (T, N, S) holds the weights, 0 on source padding.
    ``backward(dlogits)`` adds every gradient. Submodules: ``src_embed``,
    ``tgt_embed``, ``encoder``, ``bridge`` (and ``bridge_c`` for an LSTM; both when
    bidirectional), ``decoder``, ``attention`` and ``combine`` (with attention),
    ``drop``, ``out``.
    """

    src_vocab: WordVocab | None = None
    tgt_vocab: WordVocab | None = None

    @classmethod
    def for_vocabs(
        cls, src_vocab: WordVocab, tgt_vocab: WordVocab, **kwargs
    ) -> "Seq2Seq":
        """A model of token sequences: ``src_vocab`` numbers the source tokens (words,
        characters), ``tgt_vocab`` the target's and holds ``<bos>`` and ``<eos>``. The
        vocabularies are saved with the weights, and :meth:`translate` then reads and
        writes tokens. ``kwargs`` as for the constructor.

        >>> model = Seq2Seq.for_vocabs(letters, phonemes, hidden_size=128)
        >>> model.translate([list("cat")])  # [['K', 'AE1', 'T']], once trained
        """
        for name, v in (("src_vocab", src_vocab), ("tgt_vocab", tgt_vocab)):
            if not isinstance(v, WordVocab):
                raise TypeError(f"{name} must be a WordVocab, got {type(v).__name__}")
        tgt_vocab.bos_id, tgt_vocab.eos_id  # noqa: B018 - raise if missing
        model = cls(len(src_vocab), len(tgt_vocab), **kwargs)
        model.src_vocab, model.tgt_vocab = src_vocab, tgt_vocab
        return model

    @classmethod
    def for_features(cls, input_size: int, tgt_vocab: WordVocab, **kwargs) -> "Seq2Seq":
        """A model from sequences of vectors (video frames, audio features) to tokens:
        the encoder reads the source vectors as they are, src (S, N, input_size) float,
        with no embedding; ``tgt_vocab`` as for :meth:`for_vocabs` (saved with the
        weights). ``kwargs`` as for the constructor.

        >>> model = Seq2Seq.for_features(24 * 24, words, attention="additive")
        >>> model.translate([clip.reshape(12, -1)])  # [['a', 'three', ...]], trained
        """
        if not (isinstance(input_size, (int, np.integer)) and input_size >= 1):
            raise ValueError(
                f"input_size must be a positive integer, got {input_size!r}"
            )
        if not isinstance(tgt_vocab, WordVocab):
            raise TypeError(
                f"tgt_vocab must be a WordVocab, got {type(tgt_vocab).__name__}"
            )
        tgt_vocab.bos_id, tgt_vocab.eos_id  # noqa: B018 - raise if missing
        model = cls(None, len(tgt_vocab), input_size=int(input_size), **kwargs)
        model.tgt_vocab = tgt_vocab
        return model

    def __init__(
        self,
        src_vocab_size: int | None,
        tgt_vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 128,
        num_layers: int = 1,
        cell: str = "gru",
        bidirectional: bool = True,
        attention: str | None = "additive",
        dropout: float = 0.0,
        input_size: int | None = None,
        dtype=np.float32,
    ):
        super().__init__()
        if (src_vocab_size is None) == (input_size is None):
            raise ValueError(
                "give src_vocab_size (token ids in) or input_size (vectors in; see "
                f"for_features), not both or neither: got {src_vocab_size!r} and "
                f"{input_size!r}"
            )
        if cell not in RECURRENT:
            raise ValueError(f"cell must be one of {sorted(RECURRENT)}, got {cell!r}")
        if attention not in ATTENTION:
            raise ValueError(f"attention must be one of {ATTENTION}, got {attention!r}")
        if attention == "dot" and bidirectional:
            raise ValueError(
                "attention='dot' compares decoder states (hidden_size) with encoder "
                "outputs (2 * hidden_size when bidirectional): use 'general' or "
                "'additive', or bidirectional=False"
            )
        self.config = dict(
            src_vocab_size=src_vocab_size,
            tgt_vocab_size=tgt_vocab_size,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            cell=cell,
            bidirectional=bidirectional,
            attention=attention,
            dropout=dropout,
            input_size=input_size,
        )
        E, H, D = embedding_dim, hidden_size, 2 if bidirectional else 1
        Layer = RECURRENT[cell]
        self.src_embed = None  # source vectors go to the encoder as they are
        if input_size is None:
            self.src_embed = Embedding(src_vocab_size, E, dtype=dtype)
        self.tgt_embed = Embedding(tgt_vocab_size, E, dtype=dtype)
        self.encoder = Layer(
            E if input_size is None else input_size,
            H,
            num_layers,
            dropout=dropout,
            bidirectional=bidirectional,
            dtype=dtype,
        )
        if bidirectional:
            self.bridge = Linear(D * H, H, dtype=dtype)
            if cell == "lstm":
                self.bridge_c = Linear(D * H, H, dtype=dtype)
        self.decoder = Layer(E, H, num_layers, dropout=dropout, dtype=dtype)
        if attention == "additive":
            self.attention = AdditiveAttention(H, D * H, H, dtype=dtype)
        elif attention is not None:
            self.attention = MultiplicativeAttention(H, D * H, attention, dtype=dtype)
        if attention is not None:
            self.combine = Linear(H + D * H, H, dtype=dtype)
        self.drop = Dropout(dropout)
        self.out = Linear(H, tgt_vocab_size, dtype=dtype)
        self.attention_weights = None

    # --- encoder and bridge ----------------------------------------------
    def _join(self, h):
        """(L * 2, N, H) final states, forward and reverse per layer -> (L, N, 2H)."""
        L = self.config["num_layers"]
        h = h.reshape((L, 2) + h.shape[1:])
        return array_module(h).concatenate([h[:, 0], h[:, 1]], axis=-1)

    def _split(self, d):
        """The inverse of :meth:`_join` for gradients: (L, N, 2H) -> (L * 2, N, H)."""
        H = self.config["hidden_size"]
        xp = array_module(d)
        return xp.stack([d[..., :H], d[..., H:]], axis=1).reshape(-1, *d.shape[1:-1], H)

    def encode(self, src, src_lengths):
        """Encoder outputs (S, N, D*H) and the decoder's initial state."""
        if self.src_embed is None:
            F = self.config["input_size"]
            check_float_array(
                "src", src, ndim=3, like=self.out.params["W"], last=F,
                shape_desc=f"(S, N, input_size={F})",
            )  # fmt: skip
            x = src
        else:
            check_int_array("src", src, high=self.config["src_vocab_size"])
            if src.ndim != 2:
                raise ValueError(f"src must have shape (S, N), got {tuple(src.shape)}")
            x = self.src_embed(src)
        outputs, h_n = self.encoder(x, lengths=src_lengths)
        if not self.config["bidirectional"]:
            return outputs, h_n
        if isinstance(h_n, tuple):  # an LSTM's (h_n, c_n)
            h, c = h_n
            return outputs, (self._bridge(self.bridge, h), self.bridge_c(self._join(c)))
        return outputs, self._bridge(self.bridge, h_n)

    def _bridge(self, linear, h):
        s0 = array_module(h).tanh(linear(self._join(h)))
        self.save_for_backward(s0)
        return s0

    def _encode_backward(self, d_outputs, d_s0):
        if self.config["bidirectional"]:
            if isinstance(d_s0, tuple):
                d_h, d_c = d_s0
                d_c = self._split(self.bridge_c.backward(d_c))
                d_s0 = (self._bridge_backward(self.bridge, d_h), d_c)
            else:
                d_s0 = self._bridge_backward(self.bridge, d_s0)
        dx, _ = self.encoder.backward(d_outputs, d_s0)
        if self.src_embed is None:
            return dx
        self.src_embed.backward(dx)

    def _bridge_backward(self, linear, d_s0):
        s0 = self.saved()
        return self._split(linear.backward(d_s0 * (1 - s0 * s0)))

    # --- decoder ------------------------------------------------------------
    def _read_out(self, states, keys, src_lengths, projected=None):
        """Logits from decoder states (T, N, H), attending over the encoder outputs
        ``keys`` (N, S, D*H), batch first (they are keys and values).

        All T states attend at once (one query per step), so the keys are projected
        once; ``projected`` holds that projection when a decoder already has it.
        """
        if self.config["attention"] is None:
            return self.out(self.drop(states))
        xp = array_module(states)
        context, weights = self.attention(  # on arrays made here: no checks needed
            states.transpose(1, 0, 2),
            keys,
            keys,
            src_lengths,
            projected_keys=projected,
            check=False,
        )  # (N, T, D*H), (N, T, S)
        self.attention_weights = weights.transpose(1, 0, 2)
        mixed = xp.tanh(
            self.combine(xp.concatenate([states, context.transpose(1, 0, 2)], axis=-1))
        )
        self.save_for_backward(mixed)
        return self.out(self.drop(mixed))

    def _read_out_backward(self, dlogits):
        """Gradients w.r.t. the decoder states and the encoder outputs (or None)."""
        d = self.drop.backward(self.out.backward(dlogits))
        if self.config["attention"] is None:
            return d, None
        mixed = self.saved()
        H = self.config["hidden_size"]
        d_cat = self.combine.backward(d * (1 - mixed * mixed))
        d_states, d_context = d_cat[..., :H], d_cat[..., H:]
        d_query, d_keys, d_values = self.attention.backward(
            d_context.transpose(1, 0, 2)
        )
        d_outputs = (d_keys + d_values).transpose(1, 0, 2)
        return d_states + d_query.transpose(1, 0, 2), d_outputs

    def forward(self, src, src_lengths, tgt_in):
        """Teacher-forced logits, shape (T, N, tgt_vocab_size).

        Parameters
        ----------
        src : int array, shape (S, N); for a model of features (:meth:`for_features`)
            a float array, shape (S, N, input_size)
        src_lengths : int array, shape (N,), or None when no source is padded
        tgt_in : int array, shape (T, N): ``bos`` then the target without its last
            token; padding anywhere after a target's end is harmless (the decoder
            runs forward in time) once the loss ignores it
        """
        check_int_array("tgt_in", tgt_in, high=self.config["tgt_vocab_size"])
        if tgt_in.ndim != 2 or tgt_in.shape[1] != src.shape[1]:
            raise ValueError(
                f"tgt_in must have shape (T, N) with N = {src.shape[1]} as src, got "
                f"{tuple(tgt_in.shape)}"
            )
        outputs, s0 = self.encode(src, src_lengths)
        states, _ = self.decoder(self.tgt_embed(tgt_in), s0)
        return self._read_out(states, outputs.transpose(1, 0, 2), src_lengths)

    def backward(self, dlogits):
        """dlogits : array, shape (T, N, tgt_vocab_size). Adds every gradient; returns
        None, or d_src (S, N, input_size) for a model of features."""
        d_states, d_outputs = self._read_out_backward(dlogits)
        dx, d_s0 = self.decoder.backward(d_states)
        self.tgt_embed.backward(dx)
        return self._encode_backward(d_outputs, d_s0)  # d_outputs None: unused

    # --- decoding -------------------------------------------------------------
    def _decode_state(self, outputs, s0, src_lengths) -> dict:
        """What :meth:`_step` carries, from :meth:`encode`'s outputs (S, B, D*H), with
        the batch on axis 1 of every array as :mod:`rnnlab.decode` reorders it.

        The encoder outputs (and their projection by the attention, computed once) are
        kept batch first behind a leading axis of 1, (1, B, S, ...), so that reordering
        the beams copies each row's block in one piece.
        """
        xp = array_module(outputs)
        keys = xp.ascontiguousarray(outputs.transpose(1, 0, 2))  # (B, S, D*H)
        state = dict(h=s0, keys=keys[None], lengths=np.asarray(src_lengths)[None, :])
        if self.config["attention"] is not None:
            projected = self.attention.project_keys(keys)
            if projected is not None:
                state["projected"] = projected[None]
        return state

    def _step(self, tokens, state):
        """One decoder step for :mod:`rnnlab.decode` (``state`` from
        :meth:`_decode_state`)."""
        states, h = self.decoder(self.tgt_embed(tokens[None, :]), state["h"])
        projected = state.get("projected")
        logits = self._read_out(
            states,
            state["keys"][0],
            state["lengths"][0],
            None if projected is None else projected[0],
        )
        return logits[0], dict(state, h=h)

    def decoding_step(self, sources):
        """The decoder as a step function, to write one's own decoding.

        Parameters
        ----------
        sources : list of token lists (a model made by :meth:`for_vocabs`) or of
            non-empty 1-D id arrays

        Returns
        -------
        step : ``step(tokens, state) -> (logits, state)``, ``tokens`` (B,) target ids,
            ``logits`` (B, tgt_vocab_size), run in eval mode without gradients; as
            :mod:`rnnlab.decode` takes it
        state : the state after encoding the sources, batch on axis 1 of every array
        """
        if self.src_vocab is not None and not hasattr(sources[0], "dtype"):
            sources = self._encode_sources(sources)

        def step(tokens, state):
            with self.evaluating(), no_grad():
                return self._step(backend.to_device(tokens, self.device), state)

        return step, self._start(sources)

    def _start(self, sources) -> dict:
        """Pad the source id arrays and encode them (eval mode, no gradients): the
        state decoding starts from."""
        src, lengths = pad_sequences([np.asarray(s) for s in sources])
        with self.evaluating(), no_grad():
            outputs, s0 = self.encode(backend.to_device(src, self.device), lengths)
        return self._decode_state(outputs, s0, lengths)

    def translate(
        self,
        sources,
        *,
        bos: int | None = None,
        eos: int | None = None,
        method: str = "greedy",
        max_len: int = 50,
        beam_size: int = 5,
        length_penalty: float = 0.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        rng=None,
        batch_size: int = 256,
    ) -> list[list[int]]:
        """Decode a target for each source (in eval mode, keeping no caches).

        Parameters
        ----------
        sources : list of 1-D int arrays (source token ids), each non-empty; or, for a
            model made by :meth:`for_vocabs`, a list of token lists (``list("cat")``,
            ``"three hundred".split()``); for a model of features, float arrays of
            shape (S_n, input_size)
        bos, eos : target token ids that start and end a target; by default the
            target vocabulary's ``<bos>`` and ``<eos>``
        method : ``'greedy'``, ``'sample'`` (with ``temperature``, ``top_k``,
            ``top_p``, ``rng``; :func:`rnnlab.decode.sample`) or ``'beam'`` (with
            ``beam_size`` and ``length_penalty``, the :math:`\alpha` of
            :func:`rnnlab.decode.beam_search`)
        max_len : int, the longest target, ``eos`` included
        batch_size : int
            Sources decoded together (a beam holds up to ``beam_size`` rows for
            each); more is faster until memory runs short

        Returns
        -------
        one list of target ids per source, without ``bos`` and ``eos`` (target tokens
        when the sources were tokens, or vectors for a model of :meth:`for_features`)
        """
        if method not in ("greedy", "sample", "beam"):
            raise ValueError(
                f"method must be 'greedy', 'sample' or 'beam', got {method!r}"
            )
        if isinstance(sources, np.ndarray) or not isinstance(sources, (list, tuple)):
            raise TypeError(
                "sources must be a list of 1-D token id arrays, got "
                f"{type(sources).__name__}"
            )
        if not sources:
            raise ValueError("sources is empty: nothing to translate")
        tokens = self.src_vocab is not None and not hasattr(sources[0], "dtype")
        if tokens:
            sources = self._encode_sources(sources)
        elif isinstance(sources[0], (str, list, tuple)) and any(
            isinstance(t, str) for t in sources[0]
        ):
            raise TypeError(
                "sources hold str tokens but this model has no vocabulary to number "
                "them: build it with Seq2Seq.for_vocabs, or pass token ids"
            )
        if bos is None or eos is None:
            if self.tgt_vocab is None:
                raise ValueError(
                    "bos and eos are needed: this model has no target vocabulary "
                    "(build it with Seq2Seq.for_vocabs to have them found there)"
                )
            bos = self.tgt_vocab.bos_id if bos is None else bos
            eos = self.tgt_vocab.eos_id if eos is None else eos
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(
                f"batch_size must be a positive integer, got {batch_size!r}"
            )
        options = {  # what the decoder of each method takes
            "greedy": {},
            "sample": dict(temperature=temperature, top_k=top_k, top_p=top_p, rng=rng),
            "beam": dict(beam_size=beam_size, alpha=length_penalty),
        }[method]
        out = self._translate(sources, bos, eos, method, max_len, options, batch_size)
        # token lists in, or vectors in with a target vocabulary: tokens out
        if not (tokens or (self.src_embed is None and self.tgt_vocab is not None)):
            return out
        # every token the model wrote, specials too (eos ended it and is left out)
        return [self.tgt_vocab.decode(t, skip_specials=False) for t in out]

    def align(self, sources, targets, *, bos: int | None = None) -> list:
        """The attention weights of each target over its source, in eval mode.

        The decoder is fed ``bos`` and the target (teacher-forced). Fed the model's
        own output (from :meth:`translate` with ``method='greedy'``), these are
        exactly the weights it used while decoding, since it then reads the same
        tokens.

        Parameters
        ----------
        sources, targets : lists of token lists (a model made by :meth:`for_vocabs`)
            or of 1-D id arrays, one target per source; a target may be empty
        bos : target id that starts a target; by default the vocabulary's ``<bos>``

        Returns
        -------
        list of arrays, shape (T_n + 1, S_n): row t holds the weights over the
        source tokens when the model predicts target token t + 1 (the last row:
        the end of the target)
        """
        if self.config["attention"] is None:
            raise ValueError("this model has no attention (attention=None) to show")
        if len(sources) != len(targets) or not len(sources):
            raise ValueError(
                f"sources and targets must be non-empty lists of the same length, got "
                f"{len(sources)} and {len(targets)}"
            )
        if self.src_vocab is not None and not hasattr(sources[0], "dtype"):
            sources = self._encode_sources(sources)
            targets = [self.tgt_vocab.encode(t) for t in targets]
        if bos is None:
            if self.tgt_vocab is None:
                raise ValueError("bos is needed: this model has no target vocabulary")
            bos = self.tgt_vocab.bos_id
        src, src_lengths = pad_sequences([np.asarray(s) for s in sources])
        tgt_in, _ = pad_sequences(
            [np.r_[bos, np.asarray(t, dtype=np.int64)] for t in targets]
        )
        with self.evaluating(), no_grad():
            self(
                backend.to_device(src, self.device),
                src_lengths,
                backend.to_device(tgt_in, self.device),
            )
        weights = backend.to_numpy(self.attention_weights)  # (T, N, S)
        return [
            weights[: len(t) + 1, n, : src_lengths[n]].copy()
            for n, t in enumerate(targets)
        ]

    def _encode_sources(self, sources) -> list:
        out = []
        for i, s in enumerate(sources):
            if isinstance(s, str):
                raise TypeError(
                    f"sources[{i}] is a str: split it into tokens first (list(word) "
                    f"for characters, text.split() for words), got {s!r}"
                )
            if not all(isinstance(t, str) for t in s):
                raise TypeError(f"sources[{i}] must be a list of str tokens, got {s!r}")
            out.append(self.src_vocab.encode(s))
        return out

    def _translate(self, sources, bos, eos, method, max_len, options, batch_size):
        ids = self.src_embed is not None
        for i, s in enumerate(sources):
            if np.ndim(s) != (1 if ids else 2) or len(s) == 0:
                want = (
                    "a non-empty 1-D array of token ids"
                    if ids
                    else (
                        f"a non-empty array of vectors (S, {self.config['input_size']})"
                    )
                )
                raise ValueError(
                    f"sources[{i}] must be {want}, got shape {np.shape(s)}"
                )
        out = []
        for i in range(0, len(sources), batch_size):
            chunk = sources[i : i + batch_size]
            out += self._translate_batch(chunk, method, bos, eos, max_len, options)
        return out

    def _translate_batch(self, sources, method, bos, eos, max_len, kwargs):
        state = self._start(sources)
        with self.evaluating():  # once for the whole loop (the decoders add no_grad)
            common = dict(
                bos=bos, eos=eos, max_len=max_len, batch_size=len(sources),
                device=self.device,
            )  # fmt: skip
            if method == "beam":
                found = beam_search(self._step, state, **common, **kwargs)
                return [tokens for tokens, _ in found]
            decode = greedy if method == "greedy" else sample
            return decode(self._step, state, **common, **kwargs)

    # --- checkpoints: the vocabularies travel with the config --------------
    extra_keys = {"src_vocab": "src_vocab", "tgt_vocab": "tgt_vocab"}

    def checkpoint_extras(self) -> dict:
        return {
            key: getattr(self, key).to_dict()
            for key in self.extra_keys
            if getattr(self, key) is not None
        }

    @classmethod
    def from_extras(cls, config, extras, dtype) -> "Seq2Seq":
        config.pop("src_vocab_size"), config.pop("tgt_vocab_size")
        tgt = WordVocab.from_dict(extras["tgt_vocab"])
        if "src_vocab" not in extras:  # a model of features
            return cls.for_features(
                config.pop("input_size"), tgt, dtype=dtype, **config
            )
        src = WordVocab.from_dict(extras["src_vocab"])
        config.pop("input_size", None)
        return cls.for_vocabs(src, tgt, dtype=dtype, **config)

    def extra_repr(self):
        c = self.config
        src = c["src_vocab_size"] or f"vectors of {c['input_size']}"
        return (
            f"{src} -> {c['tgt_vocab_size']}, cell={c['cell']!r}, "
            f"attention={c['attention']!r}"
        )
