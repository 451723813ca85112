"""One formatter, ruff, at 88 columns (configured in pyproject.toml), and its linter.

They check the package, the tests, tools/ and the code cells of the chapter notebooks.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ruff")
ROOT = Path(__file__).resolve().parent.parent
CHECKED = ["rnnlab", "tests", "notebooks", "tools", "book/_ext"]


def _ruff(*args):
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *CHECKED],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_code_is_formatted():
    result = _ruff("format", "--check")
    assert result.returncode == 0, (
        "run `python -m ruff format rnnlab tests notebooks tools`:\n"
        + result.stdout
        + result.stderr
    )


def test_code_passes_the_linter():
    # pyflakes' checks and pycodestyle's, including lines at most 88 columns long
    result = _ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr
