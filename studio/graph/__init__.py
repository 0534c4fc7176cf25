"""Projects and networks (Qt-free): the model of the world, its analysis, layout and file format."""

from studio.graph.analysis import Analyzer, NodeResult, Problem, Report, format_shape
from studio.graph.network import Edge, Network, Node
from studio.graph.project import BlockDef, Project

__all__ = ["Analyzer", "BlockDef", "Edge", "Network", "Node", "NodeResult", "Problem", "Project", "Report", "format_shape"]
