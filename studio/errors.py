"""The errors a user can meet, each with a message that says what, where and what to do.

Every error the app shows to a person derives from `StudioError`; the CLI prints
its message on one or two lines and exits non-zero, the GUI shows it in a dialog.
"""


class StudioError(Exception):
    """A problem a user can act on; `str(error)` is the whole message."""

    exit_code = 1


class ProjectFileError(StudioError):
    """A project file that cannot be read: corrupt, a future format, a bad value.

    Attributes:
        path: the file.
        where: the place inside it, as a dotted path (``networks.main.nodes[3]``)
            or ``line L, column C``; empty when the whole file is at fault.
    """

    exit_code = 2

    def __init__(self, path, where: str, message: str):
        self.path = str(path)
        self.where = where
        self.detail = message
        place = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{place}: {message}")


class GraphError(StudioError):
    """An edit the network refuses (a cycle, an unknown port, a name in use)."""


class DataError(StudioError):
    """A data source that is missing, truncated or mislabelled; names the file."""


class TrainingError(StudioError):
    """A run that had to stop (NaN loss, out of memory); says where and what is kept."""


class InputError(StudioError):
    """Values a user gave that do not fit what they describe (an input shape the module cannot take)."""

    exit_code = 2
