"""Compiling networks: `Network` -> `torch.fx.GraphModule`, and standalone Python source."""

from studio.compile.fx import CompileError, attribute_names, compile_network, compile_project, example_inputs
from studio.compile.source import project_source

__all__ = ["CompileError", "attribute_names", "compile_network", "compile_project", "example_inputs", "project_source"]
