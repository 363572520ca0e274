"""The CLI fixes glibc's mmap threshold, so a large report's freed arrays leave the process."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from evalkit.scale.memory import return_freed_arrays

# In a child: an 8 MB block freed raises glibc's dynamic threshold to 8 MB, so the next 4 MB
# blocks come from the heap and stay resident after they are freed; with the threshold fixed,
# each is mapped on its own and handed back.
CHILD = """
import ctypes, sys
from evalkit.scale.memory import return_freed_arrays
if sys.argv[1] == "fixed":
    assert return_freed_arrays()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20
libc.free(libc.malloc(8 << 20))
before = rss()
blocks = [libc.malloc(4 << 20) for _ in range(16)]
for b in blocks:
    ctypes.memset(b, 1, 4 << 20)
for b in blocks[:-1]:
    libc.free(b)
print(rss() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_large_blocks_leave_the_process_once_the_threshold_is_fixed() -> None:
    def kept(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, check=True)
        return int(out.stdout)

    dynamic, fixed = kept("dynamic"), kept("fixed")
    assert dynamic >= 40  # 15 freed 4 MB blocks stay resident: the behaviour being mended
    assert fixed <= 8  # only the block still held (and noise)


def test_it_is_set_on_glibc_and_left_alone_elsewhere() -> None:
    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert return_freed_arrays() is expected


@pytest.mark.parametrize("args", [["validate", "--help"], ["report", "missing-folder"], ["baseline", "show", "nope"]])
def test_every_command_fixes_it_once(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only `run` and `report`: `merge`, `gate --html` and `baseline show` render large runs too."""
    from click.testing import CliRunner

    import evalkit.scale.memory as memory
    from evalkit.cli import cli

    calls: list[None] = []
    monkeypatch.setattr(memory, "return_freed_arrays", lambda: calls.append(None) or True)
    CliRunner().invoke(cli, args)
    assert len(calls) == 1
