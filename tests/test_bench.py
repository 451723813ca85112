"""The benchmark runs, and its naive teaching code computes what the layers compute.

No timings are asserted.
"""

import numpy as np
import pytest

import rnnlab
from rnnlab.course import bench
from rnnlab.course.naive import NAIVE

from _helpers import to_np


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_naive_teaching_implementation_equals_the_layer(kind, device, randn):
    # on CuPy this is the benchmark's "straightforward GPU port" (and the layer uses
    # fused kernels)
    rnnlab.seed(0)
    T, N, D, H = 6, 3, 4, 5
    m = bench.LAYERS[kind](D, H, dtype=np.float64).to(device)
    x, dout = randn(T, N, D), randn(T, N, H)
    out, _ = m(x)
    dx, _ = m.backward(dout)
    out2, dx2, grads = NAIVE[kind](x, m.params, dout)
    np.testing.assert_allclose(to_np(out2), to_np(out), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(dx2), to_np(dx), rtol=1e-10, atol=1e-12)
    assert set(grads) == set(m.grads)
    for k in grads:
        np.testing.assert_allclose(
            to_np(grads[k]), to_np(m.grads[k]), rtol=1e-10, atol=1e-12, err_msg=k
        )


def test_benchmark_command_prints_a_table(capsys):
    bench.main(["all", "--size", "2,5,3,4", "--repeats", "1"])
    out = capsys.readouterr().out
    for kind in ("rnn", "lstm", "gru"):
        assert f"{kind} forward+backward" in out
    assert "rnnlab ms" in out and "naive/rnnlab" in out
    assert "rnnlab/torch" in out  # torch is part of the test environment


def test_benchmark_table_has_the_gpu_columns():
    rows = [
        {
            "N": 1,
            "T": 2,
            "D": 3,
            "H": 4,
            "rnnlab": 2.0,
            "unfused": 5.0,
            "naive": 8.0,
            "torch": 1.0,
        }
    ]
    text = bench.format_table(rows, "lstm", "cuda")
    assert "lstm forward+backward on cuda" in text
    assert (
        "rnnlab/torch" in text and "unfused/rnnlab" in text and "naive/rnnlab" in text
    )
    assert text.splitlines()[-1].split()[-3:] == ["2.00x", "4.00x", "2.50x"]


def test_benchmark_command_on_the_gpu(need_cuda, capsys):
    bench.main(["lstm", "--device", "cuda", "--size", "2,5,3,4", "--repeats", "1"])
    out = capsys.readouterr().out
    assert (
        "lstm forward+backward on cuda" in out
        and "unfused/rnnlab" in out
        and "cuda: cupy" in out
    )


def test_training_benchmarks_run_and_report_every_case():
    from rnnlab.course import bench_train

    t = bench_train.fit_overhead(repeats=1, n=40, hidden=8)
    assert set(t) == {"fit", "hand-written loop"} and min(t.values()) > 0
    b = bench_train.bucketing(repeats=1, n=40, hidden=8)
    assert b["padding"]["bucketed"] < b["padding"]["random batches"]
    assert set(bench_train.charlm_step("gru", repeats=1, H=8, N=2, T=5)) == {
        "rnnlab",
        "torch",
    }


def test_seq2seq_benchmark_runs_and_reports_every_case(torch):
    # the torch fixture skips where PyTorch is missing and runs it on one thread
    from rnnlab.course import bench_seq2seq

    tiny = dict(
        src_vocab=7, tgt_vocab=6, embedding=3, hidden=4, batch=3, src_len=4,
        tgt_len=5, sources=3, beam=2, train_steps=2,
    )  # fmt: skip
    step, dec = bench_seq2seq.run(tiny, repeats=1)
    assert {"rnnlab", "torch"} <= set(step) and min(step.values()) >= 0
    assert step["loss gap"] < 1e-5  # the same model, weights and batch
    assert {"greedy", "beam"} <= set(dec) and dec["greedy length"] <= 5
    text = bench_seq2seq.format_report(step, dec, tiny)
    assert "training step" in text and "r/t" in text and "b/g" in text


def test_ctc_benchmark_runs_and_reports(torch):
    from rnnlab.course import bench_ctc

    tiny = dict(batch=3, frames=10, classes=5, labels=3)
    times = bench_ctc.run(tiny, repeats=1)
    assert min(times["rnnlab"], times["torch"]) > 0 and times["gradient gap"] < 1e-5
    assert "r/t" in bench_ctc.format_report(times, tiny)
