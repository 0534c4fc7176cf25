"""What analysis reports: a `Problem`, one node's `NodeResult`, a network's `Report`.

Also the warnings about layers whose output goes nowhere (`unused_nodes`) and
shapes written as people write them (`format_shape`). `studio.graph.analysis`
fills these in; the CLI, the summary, the one-click fixes and the windows read
them. Shapes in reports leave out the batch dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.graph.network import Network, Node


@dataclass
class Problem:
    """One mistake: where it is and what is wrong.

    `severity` is "error" (the network cannot compile or a run would fail) or
    "warning" (it runs, but not as meant); a warning's line says so.
    """

    network: str
    node_id: str | None
    node: str | None
    message: str
    port: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{self.network}/{self.node}: {text}" if self.node else f"{self.network}: {text}"


@dataclass
class NodeResult:
    """What analysis found for one node.

    Attributes:
        status: "ok", "error" or "blocked" (an input comes from a failed node).
        outputs: output port -> shape without the batch dimension.
        dtypes: output port -> "float" or "long".
        resolved: every constructor parameter, defaults and inferred ones included.
        inferred: the parameters the input shape decided.
        params, trainable: parameter counts; flops: per sample of the batch.
        inner: for a block, one report per repetition.
    """

    status: str = "ok"
    outputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    resolved: dict = field(default_factory=dict)
    inferred: dict = field(default_factory=dict)
    params: int = 0
    trainable: int = 0
    flops: int = 0
    message: str | None = None
    port: str | None = None
    inner: list["Report"] = field(default_factory=list)


@dataclass
class Report:
    """The analysis of one network: a result per node id, the problems (errors) and warnings.

    `computed` counts the nodes walked anew (after an edit: what is downstream of it).
    """

    network: str
    nodes: dict[str, NodeResult]
    problems: list[Problem]
    computed: int = 0
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not count)."""
        return not self.problems

    @property
    def total_params(self) -> int:
        """Parameters of every node."""
        return sum(r.params for r in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        """Parameters that training updates."""
        return sum(r.trainable for r in self.nodes.values())

    @property
    def flops(self) -> int:
        """FLOPs of one forward pass of one sample."""
        return sum(r.flops for r in self.nodes.values())


def unused_nodes(net: Network, where: str) -> list[Problem]:
    """A warning for each layer whose output goes nowhere (Output nodes aside).

    A network with an unconnected input, or without an Output, already has
    an error that says what to wire; the loose ends are not reported again.
    """
    nodes = list(net.iter_nodes())
    if all(n.role != "output" for n in nodes) or any(_input_missing(net, n) for n in nodes):
        return []
    return [Problem(where, n.id, n.name, f"{n.type} '{n.name}' is unused: its output goes nowhere; "
                    f"connect it to the layers after it, or delete it", severity="warning")
            for n in nodes if n.role != "output" and not net.outgoing(n.id)]


def _input_missing(net: Network, node: Node) -> bool:
    """True when an input port that must be wired is not."""
    optional = () if node.type == BLOCK_TYPE else catalog.get(node.type).optional
    incoming = net.incoming(node.id)
    return any(p not in incoming and p not in optional for p in net.ports(node)[0])


def format_shape(shape: tuple[int, ...]) -> str:
    """A shape as people write it: 6×28×28 (no batch)."""
    return "×".join(str(s) for s in shape) or "scalar"
