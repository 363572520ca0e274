"""Keeping a large run's memory flat: freed arrays go back to the system.

glibc's malloc serves a block of 128 kB or more with its own mmap, which ``free`` hands back at once,
but each time it frees such a block it raises that threshold to the block's size (up to 32 MB).
After the first report table of a 100k-job run is freed, its 0.8 MB columns and their copies come
from the heap instead, and a heap only shrinks from its top: a 100k-job replay peaked at 257 MB,
~36 MB of it freed and never handed back (221 MB with the threshold fixed). A fixed threshold keeps
every such block mapped on its own (measured with ``bench/bench_memory.py``, see bench/README.md).
"""

from __future__ import annotations

import sys

_M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>; setting it also turns the dynamic threshold off
_THRESHOLD = 128 * 1024  # glibc's own starting value


def return_freed_arrays() -> bool:
    """Fix glibc's mmap threshold at 128 kB for this process (and the workers it forks). True when
    set; False where there is no glibc ``mallopt`` (macOS, Windows, musl answers 0): nothing changes.
    Called by the CLI for every command, not by the library: a program that imports evalkit keeps
    its own malloc."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: `evalkit --help` does not pay for it

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
