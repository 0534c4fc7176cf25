"""The system libraries the GUI needs on X11, checked before Qt tries to load them.

When Qt's X11 platform plugin ("xcb") cannot load, Qt aborts the process with
"Could not load the Qt platform plugin "xcb"" and names libxcb-cursor0 whatever
is missing. `check` tries each library the plugin and Qt's GUI libraries link
against (as PySide6's wheel lists them) and then the plugin itself, and raises
`MissingSystemLibraries` naming what failed and the one command that installs
them all (`APT_INSTALL`, which the README shows too). Nothing here imports Qt:
it runs before `studio.ui.app` does.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from studio.errors import StudioError

# Library (as the linker asks for it) -> the Debian/Ubuntu package that holds it.
LIBRARIES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
}
APT_INSTALL = "sudo apt-get install " + " ".join(LIBRARIES.values())


class MissingSystemLibraries(StudioError):
    """Qt's X11 plugin cannot load: says which libraries failed and how to install them."""

    exit_code = 2


def check(environ: Mapping[str, str] = os.environ) -> None:
    """Raises MissingSystemLibraries when Qt would use its X11 plugin and that plugin cannot load."""
    if not uses_xcb(environ):
        return
    missing = [name for name in LIBRARIES if load_error(name)]
    if missing:
        packages = " ".join(LIBRARIES[name] for name in missing)
        raise MissingSystemLibraries(
            f"the window cannot open: the system libraries {', '.join(missing)} do not load (packages: {packages}).\n"
            f"Install what a desktop needs with:  {APT_INSTALL}  (elsewhere: your system's packages of these libraries)")
    plugin = _xcb_plugin()
    problem = load_error(str(plugin)) if plugin else None
    if problem:
        raise MissingSystemLibraries(f"the window cannot open: Qt's X11 plugin does not load: {problem}.\n"
                                     f"Install the system package that holds it (on Debian/Ubuntu also: {APT_INSTALL})")


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """True when Qt would first try its X11 plugin: asked for it, or by default on an X display (Linux)."""
    if not sys.platform.startswith("linux"):
        return False  # macOS and Windows have their own plugins, even with an X server's DISPLAY set
    platform = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if platform:
        return platform == "xcb"
    wayland = environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") == "wayland"
    return bool(environ.get("DISPLAY")) and not wayland  # a Wayland session: Qt tries Wayland first


def load_error(library: str) -> str | None:
    """Why the dynamic linker cannot load `library` (a name or a path); None when it can."""
    try:
        ctypes.CDLL(library)
    except OSError as e:
        return str(e)
    return None


def _xcb_plugin() -> Path | None:
    """PySide6's xcb plugin file, found without importing Qt; None when it is elsewhere."""
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None
