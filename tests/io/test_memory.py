"""Freed memory kept by glibc's malloc (neuralign.io.memory), checked in a fresh process."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"
RESIDENT_AFTER_FREE = """
import sys
import numpy as np
sys.path.insert(0, {workflow!r})
from neuralign.io.memory import keep_freed_memory
if {keep}:
    assert keep_freed_memory()
page = 4096
def resident():
    return int(open("/proc/self/statm").read().split()[1]) * page
before = resident()
array = np.ones(200 * 2**20 // 8)  # 200 MiB, written
del array
print((resident() - before) / 2**20)
"""


def resident_after_free(keep: bool) -> float:
    code = RESIDENT_AFTER_FREE.format(workflow=str(WORKFLOW), keep=keep)
    return float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc (Linux)")
def test_freed_large_arrays_stay_in_the_process_only_when_kept():
    assert resident_after_free(keep=False) < 20  # glibc unmapped the array
    assert resident_after_free(keep=True) > 180  # kept for the next array
