"""The course's own tools, apart from the library.

The naive per-gate reference implementations (:mod:`.naive`), the benchmarks
(:mod:`.bench`, :mod:`.bench_train`), the JupyterLab explorers (:mod:`.explore`) and the
synthetic long-range memory tasks (:mod:`.tasks`).
"""
