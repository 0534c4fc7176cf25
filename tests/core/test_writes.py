"""Every file the app writes survives a full disk, an unwritable place and a kill: the old file or the new, nothing else.

A full disk is a real failure of the real code path: `os.write` (the one call
through which `studio.files` writes) raises ENOSPC, or a child process runs
under RLIMIT_FSIZE, where the kernel itself refuses writes past a size (EFBIG)
to every writer, torch's C++ ones included.
"""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from studio import cli, files
from studio.errors import StudioError
from studio.graph import io
from studio.train import checkpoint as ckpt

from tests.core.helpers import lenet, residual_block_project

ROOT = Path(__file__).resolve().parents[2]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def full_disk(monkeypatch):
    """Once the test sets `room`, writes to regular files fail with ENOSPC after that many bytes."""
    real = os.write
    state = {"room": None}

    def write(fd, data):
        if state["room"] is not None and stat.S_ISREG(os.fstat(fd).st_mode):
            if len(data) > state["room"]:
                raise OSError(errno.ENOSPC, "No space left on device")
            state["room"] -= len(data)
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)
    return state


# --- item 7: studio code on a full disk destroyed code.py --------------------------------------------

@pytest.mark.parametrize("room", [0, 1024])  # the code is about 3.4 kB
def test_studio_code_on_a_full_disk_keeps_the_old_file(room, full_disk, tmp_path, capsys):
    out = tmp_path / "code.py"
    out.write_text("# my edits\n" * 1000)
    full_disk["room"] = room
    assert cli.main(["code", "resnet18", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "disk full (No space left on device): could not write the generated code" in err
    assert "needed" in err and "free" in err and "Traceback" not in err
    assert out.read_text() == "# my edits\n" * 1000 and leftovers(tmp_path) == ["code.py"]


@pytest.mark.parametrize("write", [
    lambda p: io.save(lenet(), p),
    lambda p: ckpt.atomic_save({"w": torch.zeros(50_000)}, p),
    lambda p: files.write_atomic(p, b"x" * 100_000),
])
def test_each_writer_on_a_full_disk_keeps_the_old_file(write, full_disk, tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    full_disk["room"] = 1000
    with pytest.raises(StudioError, match=r"disk full \(No space left on device\)"):
        write(path)
    assert path.read_bytes() == b"old" and leftovers(tmp_path) == ["f"]


def test_metrics_lines_are_whole_or_absent(full_disk, tmp_path):
    path = tmp_path / "metrics.jsonl"
    full_disk["room"] = 10 ** 6
    ckpt.append_metrics(path, {"epoch": 1, "train_loss": 0.5})
    full_disk["room"] = 10
    with pytest.raises(StudioError, match="disk full"):
        ckpt.append_metrics(path, {"epoch": 2, "train_loss": 0.25})
    assert [json.loads(line)["epoch"] for line in path.read_text().splitlines()] == [1]


def test_a_known_size_larger_than_the_free_space_is_refused_before_writing(tmp_path):
    with pytest.raises(StudioError, match=r"disk full: could not write the weights to .*w.pt \(needed 1000000.0 TB, "
                                          r"free .*\); free some disk space"):
        files.write_atomic(tmp_path / "w.pt", lambda f: f.write(b"never"), what="the weights", size=10 ** 18)
    assert leftovers(tmp_path) == []


# --- item 9: unwritable places, modes, links, stale temporaries ----------------------------------

@pytest.mark.parametrize("where,reason", [("missing/p.json", "No such file or directory; create the folder first"),
                                          ("file/p.json", "Not a directory; the folder part of the path")])
def test_saving_into_a_missing_or_impossible_folder_is_a_plain_error(where, reason, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    with pytest.raises(StudioError, match=reason):
        io.save(lenet(), tmp_path / where)
    assert cli.main(["code", "lenet5", "-o", str(tmp_path / where)]) == 1
    assert reason in capsys.readouterr().err
    assert leftovers(tmp_path) == ["file"]


def test_saving_keeps_the_mode_of_the_file_and_gives_new_files_the_umask_one(tmp_path):
    path = tmp_path / "p.json"
    io.save(lenet(), path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    for mode in (0o644, 0o640, 0o664):
        path.chmod(mode)
        io.save(residual_block_project(), path)
        assert path.stat().st_mode & 0o777 == mode


def test_saving_through_a_symbolic_link_updates_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "p.json"
    io.save(lenet(), target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    io.save(residual_block_project(), link)
    assert link.is_symlink() and io.load(target).name == "res"
    assert leftovers(tmp_path / "real") == ["p.json"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_save_removes_temporaries_a_killed_save_left(tmp_path):
    path = tmp_path / "p.json"
    dead = [tmp_path / f".p.json.{dead_pid()}.0000000{i}.tmp" for i in range(3)]
    old = tmp_path / ".p.json.1.00000000.tmp"  # pid 1 lives, but the file is two days old
    alive = tmp_path / f".p.json.{os.getppid()}.00000000.tmp"  # a save in progress elsewhere
    other = tmp_path / f".q.json.{dead_pid()}.00000000.tmp"  # another file's
    for p in (*dead, old, alive, other):
        p.write_text("{")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    io.save(lenet(), path)
    assert leftovers(tmp_path) == sorted([alive.name, other.name, "p.json"])


# --- item 8 and the kill test: writers under a real size limit, and killed mid-write --------------

LIMITED = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))  # writes past it fail with EFBIG
    from studio import cli
    sys.exit(cli.main({argv!r}))
""")


@pytest.mark.parametrize("fmt,name", [("torchscript", "m.pt"), ("pt2", "m.pt2"), ("state_dict", "w.pt"),
                                      ("python", "m.py")])
def test_an_export_that_hits_the_file_size_limit_fails_in_words_and_leaves_nothing(fmt, name, tmp_path):
    argv = ["export", "lenet5", "--format", fmt, "-o", str(tmp_path / name)]
    out = subprocess.run([sys.executable, "-c", LIMITED.format(limit=100_000, argv=argv)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1, out.stderr[-2000:]  # was 134: SIGABRT from torch's writer (torchscript, pt2)
    assert "disk full (File too large): could not write" in out.stderr and "Traceback" not in out.stderr
    assert leftovers(tmp_path) == []


def test_training_that_hits_the_file_size_limit_says_disk_full(tmp_path):
    argv = ["train", "lenet5", "--epochs", "1", "--out", str(tmp_path / "run"), "--set", "batch_size=256"]
    out = subprocess.run([sys.executable, "-c", LIMITED.format(limit=200_000, argv=argv)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 1
    assert "disk full (File too large): could not write the checkpoint" in out.stderr, out.stderr[-2000:]
    assert "unexpected pos" not in out.stderr
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


WRITERS = {
    "project": ("from studio.graph import io; from studio.presets import resolve; p = io.load(resolve('resnet152'))",
                "io.save(p, path)", lambda p: io.load(p).name == "resnet152"),
    "code": ("from studio import cli", "cli.main(['code', 'resnet18', '-o', path])",
             lambda p: p.read_text().endswith("print('Resnet18', tuple(out.shape) if isinstance(out, torch.Tensor) "
                                              "else [tuple(o.shape) for o in out])\n")),
    "checkpoint": ("import torch; from studio.train.checkpoint import atomic_save; w = {'w': torch.ones(4_000_000)}",
                   "atomic_save(w, path)", lambda p: bool(torch.load(p, weights_only=True)["w"].eq(1).all())),
    "export": ("from studio.export import export; from studio.graph import io; from studio.presets import resolve; "
               "p = io.load(resolve('lenet5'))", "export(p, 'torchscript', path)",
               lambda p: torch.jit.load(str(p)) is not None),
}


def killed_mid_write(script: str, folder: Path, attempts: int = 5) -> list[str]:
    """Runs `script` (which writes into `folder` in a loop) and kills it while a temporary exists; what is left."""
    for _ in range(attempts):
        child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            assert child.stdout.readline().strip() == "ready"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(n.endswith((".tmp", ".export")) for n in os.listdir(folder)):
                pass
            child.send_signal(signal.SIGKILL)
            child.wait()
        finally:
            child.kill()
            child.wait()
            child.stdout.close()
        left = [n for n in os.listdir(folder) if n.endswith((".tmp", ".export"))]
        if left:
            return left
    return []


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_writer_killed_mid_write_leaves_the_old_file_and_the_next_write_cleans_up(writer, tmp_path):
    setup, write, valid = WRITERS[writer]
    path = tmp_path / ("m.pt" if writer == "export" else "f")
    script = f"import sys; path = {str(path)!r}\n{setup}\n{write}\nprint('ready', flush=True)\nwhile True:\n    {write}\n"
    assert killed_mid_write(script, tmp_path)  # the kill came while a temporary was being written
    assert valid(path)  # the old content or the new, whole
    exec(f"{setup}\n{write}", {"path": str(path), "sys": sys})  # the next write, in this process
    assert valid(path) and leftovers(tmp_path) == [path.name]
