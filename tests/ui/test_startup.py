"""Starting the GUI on a machine without the X11 libraries Qt needs: a plain message, not Qt's abort."""

import os
import subprocess
import sys
from pathlib import Path

from studio.ui.system_libraries import APT_INSTALL, uses_xcb

README = Path(__file__).resolve().parents[2] / "README.md"


def test_studio_names_a_library_that_does_not_load_and_how_to_install_it(tmp_path):
    # An empty file ahead of the real library on the linker's path: loading it fails,
    # for Qt as for the check, as when the package is not installed.
    (tmp_path / "libxcb-icccm.so.4").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.update(DISPLAY=":99", LD_LIBRARY_PATH=os.pathsep.join(filter(None, [str(tmp_path), env.get("LD_LIBRARY_PATH")])))
    out = subprocess.run([sys.executable, "-m", "studio.cli"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2, out.stderr
    assert "libxcb-icccm.so.4" in out.stderr and "libxcb-icccm4" in out.stderr
    assert APT_INSTALL in out.stderr
    assert "Traceback" not in out.stderr and "Qt platform plugin" not in out.stderr


def test_the_check_applies_where_qt_would_load_its_x11_plugin():
    assert uses_xcb({"DISPLAY": ":0"}) == sys.platform.startswith("linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}) == sys.platform.startswith("linux")
    assert not uses_xcb({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert not uses_xcb({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"})
    assert not uses_xcb({})


def test_the_readme_shows_the_install_line_studio_prints():
    assert APT_INSTALL in README.read_text(encoding="utf-8")
