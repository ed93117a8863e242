"""Freed memory kept in the process, so that large arrays reuse warm pages.

glibc serves an allocation above its mmap threshold (128 KiB, rising to 32 MiB at most as
large blocks are freed) with a fresh mapping and unmaps it when it is freed, so every large
temporary array touches new pages. Where a virtual machine's host backs guest memory lazily,
that first touch is slow: 3.7 ms per MiB on the development machine (bench/README.md), some
twenty times the cost of writing warm memory, and more than the arithmetic of the alignment
metrics on 3200 stimuli. With ``keep_freed_memory`` glibc serves every allocation from its
heap and does not give freed memory back, so the next array reuses it. A job's memory then
stays at its peak until it ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
M_MMAP_MAX = -4
NEVER_TRIM = 2**31 - 1  # bytes free at the top of the heap before glibc trims it (C int max)


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse; False where it is not glibc."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
