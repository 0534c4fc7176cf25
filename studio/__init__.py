"""Network Studio: design, train and export PyTorch networks.

The core (catalog, graph, compile, data, train, export) is Qt-free; `studio.ui`
is the Qt application that shows it.
"""

__version__ = "0.1.0"
