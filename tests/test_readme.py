"""The README's "Build your own model" example runs as printed and learns its task."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_build_your_own_model_example_runs(capsys):
    text = README.read_text()
    section = text[text.index("## Build your own model"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md: Build your own model", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert printed.startswith("History(50 epochs, 200 steps, train_loss ")
    loss, accuracy = map(float, re.findall(r"loss ([\d.]+), accuracy ([\d.]+)", printed)[0])
    assert loss < 0.1 and accuracy > 0.95
