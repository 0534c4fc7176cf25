"""Exporting networks (TorchScript, torch.export, ONNX, Python source, state_dict), loading
weights, freezing layers, and importing plain PyTorch modules as projects.

Every export is verified before it is kept: the written file is reloaded, run
on the same sample inputs as the live model, and its outputs compared (see
`studio.export.base` for the tolerance). Files are written atomically, so a
failed export leaves nothing behind. Qt-free; the CLI and the GUI call these
functions.
"""

from studio.export.base import RTOL, ExportError, ExportResult
from studio.export.formats import FORMATS, Format, export
from studio.compile.freeze import FROZEN_KEY, apply_frozen, frozen_nodes, set_frozen, trainable_count
from studio.compile.weights import (INIT_KEY, LoadReport, apply_initial_weights, apply_weights, load_weights,
                                   read_state_dict)

__all__ = ["FORMATS", "FROZEN_KEY", "INIT_KEY", "RTOL", "ExportError", "ExportResult", "Format", "LoadReport",
           "apply_frozen", "apply_initial_weights", "apply_weights", "export", "frozen_nodes", "import_from_path",
           "import_module", "load_weights", "read_state_dict", "set_frozen", "trainable_count"]


def __getattr__(name):
    # The importer pulls in torch.fx tracing machinery; load it only when asked for.
    if name in ("import_module", "import_from_path", "ImportResult"):
        from studio.export import importer

        return getattr(importer, name)
    raise AttributeError(name)
