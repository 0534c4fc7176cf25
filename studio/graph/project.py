"""A `Project`: named networks, block definitions, data and training settings.

Most projects hold one network called "main"; a GAN holds a generator and a
discriminator. A block definition is a small network with its own Input and
Output nodes and named parameters that its nodes may refer to as ``$name``;
a node of type "Block" instantiates one (``params = {"block": NAME,
"repeat": N, **arguments}``), and its ports are the block's Input and Output
node names.
"""

from __future__ import annotations

import copy
import keyword
from dataclasses import dataclass, field

from psygnal import Signal

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.errors import GraphError
from studio.graph.network import Network, Node, is_plain_value
from studio.graph.search import checked_range, checked_target


@dataclass
class BlockDef:
    """A parametrised subgraph: `params` maps names to default values."""

    name: str
    network: Network
    params: dict = field(default_factory=dict)
    doc: str = ""

    def ports(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(input names, output names): the names of its Input and Output nodes."""
        return (tuple(n.name for n in self.network.inputs()), tuple(n.name for n in self.network.outputs()))


class Project:
    """Everything a project file holds.

    Events:
        network_added(name: str), network_removed(name: str)
        block_added(name: str), block_removed(name: str)
        block_params_changed(name: str, old: dict, new: dict)
        setting_changed(section: str, key: str, old, new)
            -- section "data", "training" or "metadata"; None stands for an absent key
        frozen_changed(network: str, node_id: str, old: bool, new: bool)
        search_changed(target: tuple, old: dict | None, new: dict | None)
            -- a search mark set, changed or removed (`studio.graph.search`); None: no mark
    """

    network_added = Signal(str)
    network_removed = Signal(str)
    block_added = Signal(str)
    block_removed = Signal(str)
    block_params_changed = Signal(str, dict, dict)
    setting_changed = Signal(str, str, object, object)
    frozen_changed = Signal(str, str, bool, bool)
    search_changed = Signal(tuple, object, object)

    def __init__(self, name: str = "untitled"):
        self.name = name
        self.networks: dict[str, Network] = {}
        self.blocks: dict[str, BlockDef] = {}
        self.data: dict = {}
        self.training: dict = {}
        self.metadata: dict = {}
        self._frozen: set[tuple[str, str]] = set()  # (network name, node id)
        self._search: dict[tuple, dict] = {}  # target -> range, see studio.graph.search

    @classmethod
    def empty(cls) -> "Project":
        """What File → New opens: one network with an Input above an Output (data flows down)."""
        project = cls("untitled")
        net = project.add_network("main")
        net.add_node(catalog.INPUT, "x", {"shape": [1, 28, 28]}, (0, 0))
        net.add_node(catalog.OUTPUT, "y", {}, (0, 160))
        return project

    def add_network(self, name: str = "main") -> Network:
        """A new empty network called `name`."""
        if name in self.networks:
            raise GraphError(f"the project already has a network named '{name}'")
        net = Network(name, self.block_ports)
        self.networks[name] = net
        self.network_added.emit(name)
        return net

    def remove_network(self, name: str) -> Network:
        """Removes and returns a network."""
        net = self.network(name)
        del self.networks[name]
        self.network_removed.emit(name)
        return net

    def network(self, name: str | None = None) -> Network:
        """The network called `name` (the first one when None)."""
        if name is None:
            if not self.networks:
                raise GraphError(f"project '{self.name}' has no network")
            return next(iter(self.networks.values()))
        try:
            return self.networks[name]
        except KeyError:
            known = ", ".join(self.networks) or "none"
            raise GraphError(f"project '{self.name}' has no network '{name}' (it has: {known})") from None

    def add_block(self, name: str, params: dict | None = None, doc: str = "") -> BlockDef:
        """A new empty block definition; add Input/Output and layers to its `network`."""
        if name in self.blocks:
            raise GraphError(f"the project already has a block named '{name}'")
        if not name.isidentifier():
            raise GraphError(f"{name!r:.60} is not a valid block name: use letters, digits and _")
        block = BlockDef(name, Network(name, self.block_ports), _checked_defaults(name, dict(params or {})), doc)
        self.blocks[name] = block
        self.block_added.emit(name)
        return block

    def remove_block(self, name: str) -> BlockDef:
        """Removes a block definition that no node uses."""
        users = [f"{net.name}/{n.name}" for net in self.all_networks() for n in net.nodes.values()
                 if n.type == BLOCK_TYPE and n.params.get("block") == name]
        if users:
            raise GraphError(f"block '{name}' is still used by {', '.join(users)}")
        block = self.blocks.pop(name)
        self.block_removed.emit(name)
        return block

    def set_block_params(self, name: str, params: dict) -> None:
        """Replaces a block definition's parameters (names and default values)."""
        block = self.block(name)
        old, block.params = dict(block.params), _checked_defaults(name, dict(params))
        if old != block.params:
            self.block_params_changed.emit(name, old, dict(params))

    def block(self, name: str) -> BlockDef:
        """The block definition called `name`."""
        try:
            return self.blocks[name]
        except KeyError:
            raise GraphError(f"project '{self.name}' has no block named '{name}'") from None

    def block_ports(self, node: Node) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The ports of a Block node: those of its definition."""
        return self.block(node.params.get("block", "")).ports()

    def any_network(self, name: str) -> Network:
        """The top-level network called `name`, else the network of the block definition called `name`."""
        if name in self.networks or name not in self.blocks:
            return self.network(name)
        return self.blocks[name].network

    def all_networks(self) -> list[Network]:
        """Top-level networks, then block networks."""
        return list(self.networks.values()) + [b.network for b in self.blocks.values()]

    def set_setting(self, section: str, key: str, value) -> None:
        """Sets one key of the data, training or metadata section; None removes it."""
        values = self._section(section)
        old = values.get(key)
        if old == value and type(old) is type(value):
            return
        values = dict(values)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = copy.deepcopy(value)
        setattr(self, section, values)
        self.setting_changed.emit(section, key, copy.deepcopy(old), copy.deepcopy(value))

    def set_settings(self, section: str, values: dict) -> None:
        """Replaces a whole section, one `set_setting` per key that changes."""
        current = self._section(section)
        for key in [k for k in current if k not in values]:
            self.set_setting(section, key, None)
        for key, value in values.items():
            self.set_setting(section, key, value)

    def _section(self, section: str) -> dict:
        if section not in ("data", "training", "metadata"):
            raise GraphError(f"unknown settings section '{section}'")
        return getattr(self, section)

    def set_frozen(self, network: str, node_id: str, frozen: bool) -> None:
        """Marks a node of a top-level network as frozen (training leaves its weights alone) or not."""
        net = self.network(network)
        net.node(node_id)
        old = (network, node_id) in self._frozen
        if old == frozen:
            return
        if frozen:
            self._frozen.add((network, node_id))
        else:
            self._frozen.discard((network, node_id))
        self.frozen_changed.emit(network, node_id, old, frozen)

    def frozen_ids(self, network: str) -> set[str]:
        """Ids of the frozen nodes of a top-level network (none for a block network)."""
        net = self.networks.get(network)
        if net is None:
            return set()
        return {nid for name, nid in self._frozen if name == network and nid in net.nodes}

    def set_search(self, target, spec: dict | None) -> None:
        """Marks a setting or a layer parameter as searched over `spec` (see `studio.graph.search`); None unmarks it."""
        target = checked_target(target)
        if target[0] == "node":
            self.any_network(target[1]).node(target[2])
        spec = None if spec is None else checked_range(spec)
        old = self._search.get(target)
        if old == spec:
            return
        if spec is None:
            del self._search[target]
        else:
            self._search[target] = spec
        self.search_changed.emit(target, copy.deepcopy(old), copy.deepcopy(spec))

    def search_marks(self) -> dict[tuple, dict]:
        """Target -> range of every search mark whose layer still exists, in the order they were made."""
        return {t: dict(s) for t, s in self._search.items() if t[0] == "setting" or self._has_node(t[1], t[2])}

    def _has_node(self, network: str, node_id: str) -> bool:
        return (network in self.networks or network in self.blocks) and node_id in self.any_network(network).nodes

    def check(self) -> None:
        """Asserts the invariants of every network."""
        for net in self.all_networks():
            net.check()


def _checked_defaults(block: str, params: dict) -> dict:
    """A block definition's parameters, checked: identifier names, a finite number or a text each."""
    for key, value in params.items():
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key) or key.startswith("__") \
                or key in ("block", "repeat"):
            raise GraphError(f"block '{block}': {key!r:.60} cannot be a parameter name; use letters, digits and _")
        if isinstance(value, bool) or not is_plain_value(value):
            raise GraphError(f"block '{block}': parameter '{key}' must be a number or a text, got {value!r:.60}")
    return params
