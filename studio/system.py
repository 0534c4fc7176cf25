"""Room on this machine: free memory and disk, and the plain refusal when something will not fit.

Callers check before a large allocation or write whose size they know (a
network's weights, a training step, an export, a data file), so a job that
cannot fit is refused with what it is, how much it needs and how much is
free, instead of torch's allocator or writer failing part way through
(``can't allocate 4000000000000 bytes``, ``unexpected pos 278144 vs 278036``).
An amount this module cannot learn on some system is None, and nothing is refused for it.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from studio.errors import StudioError


class NoRoomError(StudioError):
    """Something does not fit in memory or on disk; the message says what, how much, and how much is free."""


def free_memory() -> int | None:
    """Bytes of RAM this process may still take: the kernel's MemAvailable, lowered by a cgroup limit."""
    free = _meminfo_available() if sys.platform.startswith("linux") else None
    if free is None:
        free = _sysconf_available()
    limit = _cgroup_room()
    return limit if free is None else free if limit is None else min(free, limit)


def free_device_memory(device) -> int | None:
    """Free bytes on a CUDA device (None for other devices)."""
    import torch

    if getattr(device, "type", str(device)).split(":")[0] != "cuda" or not torch.cuda.is_available():
        return None
    return torch.cuda.mem_get_info(device)[0]


def free_disk(path: str | os.PathLike) -> int | None:
    """Free bytes on the file system holding `path` (or its nearest existing parent); None for /proc and the like."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return usage.free if usage.total else None  # a pseudo file system has no size: writing there fails otherwise


def size_text(n: int) -> str:
    """A size for people: 950 bytes, 12.3 MB, 8.0 GB (powers of 1000, as disks are sold)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def require_memory(needed: int, what: str, advice: str, free: int | None = None, where: str = "memory") -> None:
    """NoRoomError when `what` needs more than the free memory (`free`, or this machine's RAM)."""
    free = free_memory() if free is None else free
    if free is not None and needed > free:
        raise NoRoomError(f"{what} needs about {size_text(needed)} of {where}, but only {size_text(free)} is free; "
                          f"{advice}")


def require_disk(path: str | os.PathLike, needed: int, what: str) -> None:
    """NoRoomError ("disk full") when the disk holding `path` has less than `needed` bytes free."""
    free = free_disk(path)
    if free is not None and needed > free:
        raise NoRoomError(disk_full(path, what, needed, free))


def disk_full(path, what: str, needed: int | None, free: int | None, reason: str | None = None) -> str:
    """The message for a write that does not fit: disk full, needed …, free …, what to do."""
    amounts = ", ".join(f"{k} {size_text(v)}" for k, v in (("needed", needed), ("free", free)) if v is not None)
    return (f"disk full{f' ({reason})' if reason else ''}: could not write {what} to {path}"
            + (f" ({amounts})" if amounts else "") + "; free some disk space or choose another folder. "
            "Nothing was written.")


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _sysconf_available() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _cgroup_room() -> int | None:
    """What a cgroup v2 memory limit leaves (in a container MemAvailable shows the host's); cache counts as free."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int((root / "memory.current").read_text())
        stat = dict(line.split() for line in (root / "memory.stat").read_text().splitlines())
    except (OSError, ValueError):
        return None
    return max(0, int(limit) - used + int(stat.get("inactive_file", 0)))


_pause = {"depth": 0, "was_enabled": True}
_pause_lock = threading.Lock()


@contextmanager
def collection_paused():
    """No garbage collection starts while any thread is inside this block.

    Compiling a 10,000-node network makes about 200,000 objects, and each full
    collection that starts meanwhile walks every object of the process, torch's
    too: compile time grew faster than the node count (bench/analysis.py).
    `gc.freeze` would hide the old objects instead, but it rewires the
    collector's lists and is not safe while another thread is collecting (the
    GUI compiles in worker threads: it crashed the process), whereas
    `gc.disable` only sets a flag. Garbage made meanwhile waits until the last
    compile ends.
    """
    with _pause_lock:
        if _pause["depth"] == 0:
            _pause["was_enabled"] = gc.isenabled()
            gc.disable()
        _pause["depth"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause["depth"] -= 1
            if _pause["depth"] == 0 and _pause["was_enabled"]:
                gc.enable()
