"""The course's own tools, apart from the library.

The naive per-gate reference implementations (:mod:`.naive`), the benchmarks
(:mod:`.bench`, :mod:`.bench_train`, :mod:`.bench_seq2seq` with its PyTorch twin
:mod:`.torch_seq2seq`), the JupyterLab explorers (:mod:`.explore`), the synthetic
long-range memory tasks (:mod:`.tasks`), and the application chapters' recipes:
sentiment (:mod:`.sentiment`, :mod:`.vader`), the sequence-to-sequence chapters' data
and scoring (:mod:`.transduction`), grapheme to phoneme (:mod:`.g2p`,
:mod:`.g2p_baseline`), forecasting (:mod:`.forecasting`), speech (:mod:`.speech`),
music (:mod:`.music`: rolls to audio and MIDI), moving-digit videos
(:mod:`.moving_digits`), and what recorded runs write beside their results
(:mod:`.record`).
"""
