"""What a recorded run writes beside its results: the machine and the commit.

The book quotes runs longer than its build allows (the sentiment grid, the
grapheme-to-phoneme run) from JSON files that say how, where and from which code they
were made.
"""

from __future__ import annotations

import os
import platform
import subprocess

import numpy as np


def describe_machine() -> str:
    """The CPU, its cores, the OS, Python, NumPy and the BLAS thread setting."""
    cpu = platform.processor() or platform.machine()
    try:  # Linux names the model
        with open("/proc/cpuinfo") as f:
            cpu = next(x for x in f if x.startswith("model name")).split(":")[1].strip()
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )


def git_commit() -> str:
    """The short hash of the checked-out commit, or ``"unknown"`` outside git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"
