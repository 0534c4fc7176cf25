"""Writing a file so that a failure never costs the old one: every file the app writes goes through here.

`write_atomic` puts the bytes in a hidden temporary file beside the target
(``.NAME.PID.XXXXXXXX.tmp``), forces them to the disk, and renames it over the
target, so the target always holds either its old or its new content:

- through a symbolic link, the file it points to is updated and the link stays;
- an existing file keeps its permission bits, a new one gets what the umask
  allows (0644 usually; `tempfile.mkstemp` would leave 0600);
- any failure (a full disk, a missing or read-only folder, no permission)
  removes the temporary and raises `WriteError` in plain words: ``disk full:
  ... (needed 12.0 MB, free 3.1 MB)`` or ``could not write PATH: reason;
  what to do``. The old file is unchanged.
- temporaries left by a writer that was killed (its process is gone, or they
  are a day old) are removed by the next write to the same name.

`torch.save` can stream into the file (`write_atomic(path, lambda f: torch.save(obj, f))`):
a failed write then surfaces as the OS error, not as torch's ``unexpected pos``.
TorchScript and torch.export writers abort the process when a write fails, so
callers serialise those to bytes first (`to_bytes`).
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
import stat
import sys
import time
from pathlib import Path
from typing import Callable, Union

from studio.errors import StudioError
from studio.system import disk_full, free_disk

Content = Union[bytes, str, Callable[[io.RawIOBase], None]]
STALE_AFTER_S = 24 * 3600

_ADVICE = {
    errno.EACCES: "choose a folder you may write to",
    errno.EPERM: "choose a folder you may write to",
    errno.EROFS: "the disk is read-only: choose another folder",
    errno.ENOENT: "create the folder first or choose another one",
    errno.ENOTDIR: "the folder part of the path is not a folder",
    errno.EISDIR: "a folder has that name: choose a file name",
}
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class WriteError(StudioError):
    """A file that could not be written; the old file, if any, is unchanged."""


def write_atomic(path: str | os.PathLike, content: Content, sync: bool = True, what: str = "the file",
                 size: int | None = None, shown: str | os.PathLike | None = None) -> Path:
    """Writes `content` (bytes, text as UTF-8, or a function writing to a binary file) to `path` atomically.

    Returns the path written (the target of a symbolic link). `what` names the
    file in messages ("the project", "the weights"); `size` is about how many
    bytes a function will write, when the caller knows. A known size larger
    than the free space is refused before anything is written. Messages name
    `shown` instead of `path` when given (an export's staged file, by the
    place it is for).
    """
    target = real_path(Path(path))
    named = Path(shown) if shown is not None else target
    remove_stale(target)
    needed = _size(content) or size
    free = free_disk(target.parent) if needed else None
    if needed and free is not None and needed > free:
        raise WriteError(disk_full(named, what, needed, free))
    fd, tmp = None, None
    sink = None
    try:
        fd, tmp = _create_beside(target)
        sink = _Sink(fd)
        _fill(sink, content)
        if sync:
            os.fsync(fd)
        os.close(fd)
        fd = None
        os.replace(tmp, target)
        tmp = None
    except BaseException as e:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            _unlink(tmp)
        if isinstance(e, Exception) and not isinstance(e, StudioError):
            raise write_error(named, what, (sink.error if sink and sink.error else e), needed) from None
        raise
    return target


def append_atomic(path: str | os.PathLike, text: str, what: str = "the file") -> None:
    """Appends `text` to `path` whole or not at all: after a failed write the file is cut back to its old end."""
    path = Path(path)
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise write_error(path, what, e, len(data)) from None
    try:
        end = os.fstat(fd).st_size
        try:
            _Sink(fd).write(data)
        except OSError as e:
            os.ftruncate(fd, end)
            raise write_error(path, what, e, len(data)) from None
    finally:
        os.close(fd)


def to_bytes(save: Callable[[io.BytesIO], None]) -> bytes:
    """What `save(buffer)` writes into memory (for writers that abort the process when a file write fails)."""
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getvalue()


def write_error(path: Path, what: str, e: BaseException, needed: int | None = None) -> WriteError:
    """The plain message for a failed write: disk full with the sizes, or the reason and what to do."""
    if isinstance(e, OSError) and e.errno in FULL:
        return WriteError(disk_full(path, what, needed, free_disk(path.parent), e.strerror))
    if isinstance(e, OSError):
        advice = _ADVICE.get(e.errno, "check the path and the disk")
        return WriteError(f"could not write {what} to {path}: {e.strerror or e}; {advice}. "
                          f"Nothing was written.")
    text = (str(e).strip() or type(e).__name__).splitlines()[0][:300]
    return WriteError(f"could not write {what} to {path}: {text}. Nothing was written.")


class _Sink(io.RawIOBase):
    """A binary file over a descriptor that writes everything or raises, remembering the OS error."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd, self.written, self.error = fd, 0, None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        try:
            done = 0
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError as e:
            self.error = self.error or e
            raise
        self.written += done
        return done

    def close(self) -> None:  # the descriptor is closed by write_atomic
        pass


def _fill(sink: _Sink, content: Content) -> None:
    if callable(content):
        content(sink)
    else:
        sink.write(content.encode("utf-8") if isinstance(content, str) else content)


def _size(content: Content) -> int | None:
    if isinstance(content, str):
        return len(content.encode("utf-8", "surrogatepass"))
    if isinstance(content, (bytes, bytearray)):
        return len(content)
    return None  # streamed: the total is not known before the end


def real_path(path: Path) -> Path:
    """The file a symbolic link points to (the link itself stays); other paths as given."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _create_beside(target: Path) -> tuple[int, str]:
    """A new hidden temporary file in the target's folder, with the mode the target has or would get."""
    folder = target.parent
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = str(folder / f"{temporary_prefix(target)}{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:
            continue
    if mode is not None:
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
    return fd, tmp


def temporary_prefix(target: Path) -> str:
    """How the names of `target`'s temporaries begin: ``.NAME.PID.`` (the writer's process id)."""
    return f".{target.name}.{os.getpid()}."


def remove_stale(target: Path, suffix: str = ".tmp") -> None:
    """Removes `target`'s temporaries (files or folders ending in `suffix`) whose writer is gone or a day old."""
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    prefix = f".{target.name}."
    for name in names:
        if name.startswith(prefix) and name.endswith(suffix) and _stale(target.parent / name, name[len(prefix):]):
            path = target.parent / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                _unlink(path)


def _stale(path: Path, rest: str) -> bool:
    pid = rest.split(".", 1)[0]
    if pid.isdigit() and sys.platform != "win32" and int(pid) != os.getpid() and not _alive(int(pid)):
        return True
    try:
        return time.time() - path.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists (never sent on Windows, see _stale)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
