"""Giving an imported network the module hierarchy back: submodules become blocks.

The builder makes a flat network; each node remembers the module calls it was
made in (``node.meta["scope"]`` of its traced call). `restructure` walks those
calls from the deepest up and, for each call of a submodule:

* a call holding one node is dissolved: the node takes the submodule's name
  (OutConv's only conv becomes the node ``outc``);
* a call of a class the module calls only once is inlined: its nodes stay in
  the enclosing network, named by their path (``features_conv0``);
* otherwise its nodes move into a block definition (an Input per value coming
  in, named after the forward's parameter, an Output per value going out) and
  one Block node takes their place, named after the submodule. A ``torch.cat``
  that only joins what comes in stays outside (DenseNet's dense layers then
  take one input each and share one definition).

Definitions with the same nodes and wiring are merged into one (`import_merge`); numbers that
differ between them (channels, strides) become the definition's ``$``
parameters, set by each instance. A Sequential whose children are instances of
one definition with the same arguments, each feeding the next, becomes one
Block node with ``repeat`` (ResNet's ``layer1``): compiled, its layers are
``layer1.0.conv1``, the module's own names. A call whose nodes are not one
region of the graph (a path leaves and comes back) is inlined instead.

`Hierarchy.paths` gives, for each node of the flat network, its module path
in the compiled result, so the module's weights can be matched to it.
"""

from __future__ import annotations

from typing import Any

from torch import fx

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.compile.fx import attribute_names
from studio.export.import_block_names import CONTAINERS, block_base, free_name, relative_name
from studio.export.import_merge import merge_equal
from studio.export.import_trace import Call
from studio.graph.network import Network
from studio.graph.project import Project

ROOT = None  # the key of the top-level network in location chains


class Hierarchy:
    """Restructures one imported network into blocks (see the module docstring).

    Attributes:
        where: flat node id -> its location, outermost first: [network key
            (None for the top network, else the block name), node id, repetition or None].
    """

    def __init__(self, project: Project, network: str, origin: dict[str, tuple[fx.Node, str]],
                 shapes: dict[tuple[str, str], tuple[list[int], str]], values: dict[fx.Node, Any]):
        self.project, self.net = project, project.network(network)
        self.shapes = dict(shapes)  # (node id, port) -> (shape without batch, dtype)
        self.values = values  # traced value -> (node id, port) of the flat network
        self.redirect: dict[tuple[str, str], tuple[str, str]] = {}  # an output now given by a Block node
        self.chain: dict[str, tuple[Call, ...]] = {}
        self.path: dict[str, str] = {}
        for nid in self.net.nodes:
            n, base = origin.get(nid, (None, self.net.node(nid).name))
            scope = n.meta.get("scope", ()) if n is not None else ()
            if n is not None and n.op == "call_module" and scope and scope[-1].path == n.target:
                scope = scope[:-1]  # a layer's own call is not a scope of it
            self.chain[nid] = scope
            self.path[nid] = n.target if n is not None and n.op == "call_module" else \
                ".".join(p for p in (scope[-1].path if scope else "", base) if p)
        self.where: dict[str, list[list]] = {nid: [[ROOT, nid, None]] for nid in self.net.nodes}
        self.inside: dict[str, list[str]] = {nid: [nid] for nid in self.net.nodes}
        self.hoisted: dict[int, list[str]] = {}  # call id -> Concat nodes moved out of it
        self.made: dict[str, Call] = {}  # block name -> the call it was made from
        self.made_instance: dict[str, str] = {}  # block name -> its Block node
        self.index: dict[str, str] = {}  # node id -> its path inside the block holding it ("0" in a Sequential)

    # --- the walk ---------------------------------------------------------------------
    def restructure(self) -> None:
        """Turns the submodule calls into blocks (deepest first), merges equal definitions, names the nodes."""
        calls = {c.id: (chain.index(c) + 1, c) for chain in self.chain.values() for c in chain}
        for depth, call in sorted(calls.values(), key=lambda v: (-v[0], v[1].id)):
            self._call(call, depth)
        height = 1
        while True:
            level = [name for name in self.project.blocks if self._height(name) == height]
            if not level:
                break
            merge_equal(self, level)
            self._repeats(height)
            height += 1
        self._name(self.net, "")

    def _call(self, call: Call, depth: int) -> None:
        members = [nid for nid, chain in self.chain.items() if len(chain) >= depth and chain[depth - 1] is call]
        members = self._hoist(members, depth, call)
        if len(members) == 1:  # one layer or one block: it takes the submodule's name, no block of its own
            self.path[members[0]] = call.path
            node = self.net.node(members[0])
            if node.type == BLOCK_TYPE:
                self.made[node.params["block"]] = call  # its definition is named after the outer module
        if len(members) <= 1 or not self._convex(members):
            self._lift(members, depth)
        else:
            self._collapse(call, members, depth)

    def _height(self, name: str) -> int:
        inner = [n.params["block"] for n in self.project.block(name).network.nodes.values() if n.type == BLOCK_TYPE]
        return 1 + max((self._height(b) for b in inner), default=0)

    def _lift(self, members: list[str], depth: int) -> None:
        """Leaves `members` in the enclosing scope."""
        for nid in members:
            self.chain[nid] = self.chain[nid][:depth - 1]

    def _hoist(self, members: list[str], depth: int, call: Call) -> list[str]:
        """Members less a Concat that only joins values from outside (it moves to the enclosing scope)."""
        ids = set(members)
        keep = []
        for nid in members:
            node = self.net.node(nid)
            incoming = self.net.incoming(nid).values()
            if node.type == "Concat" and incoming and all(e.src not in ids for e in incoming):
                self.chain[nid] = self.chain[nid][:depth - 1]
                self.hoisted.setdefault(call.id, []).append(nid)
                outer = self.chain[nid][-1].path if self.chain[nid] else ""
                self.path[nid] = f"{outer}.cat" if outer else "cat"  # named where it now is, as code there would
            else:
                keep.append(nid)
        return keep

    def _convex(self, members: list[str]) -> bool:
        """True when no path leaves the members and comes back (one Block node could not stand for them)."""
        ids = set(members)
        below = self.net.downstream(ids) - ids
        above, stack = set(), list(ids)
        while stack:
            for e in self.net.incoming(stack.pop()).values():
                if e.src not in above and e.src not in ids:
                    above.add(e.src)
                    stack.append(e.src)
        return not below & above

    # --- one block ----------------------------------------------------------------------
    def _collapse(self, call: Call, members: list[str], depth: int) -> None:
        """Moves `members` (the nodes of `call`) into a new definition, one Block node taking their place."""
        members, entering, leaving = self._boundary(members)
        sources = list(dict.fromkeys((e.src, e.src_port) for e in entering))
        exits = list(dict.fromkeys((e.src, e.src_port) for e in leaving))
        ins = dict(zip(sources, self._input_names(call, sources)))
        outs = dict(zip(exits, ["out"] if len(exits) == 1 else [f"out{i + 1}" for i in range(len(exits))]))
        block = self.project.add_block(self._block_name(call))
        self.made[block.name] = call
        self._fill(block.network, call, members, entering, ins, outs)
        for nid in members:
            self.net.remove_node(nid)
        instance = self.net.add_node(BLOCK_TYPE, self.net.unique_name(f"block_{block.name}"), {"block": block.name})
        self.made_instance[block.name] = instance
        for (src, port), name in ins.items():
            self.net.connect(src, port, instance, name)
        for e in leaving:
            self.net.connect(instance, outs[(e.src, e.src_port)], e.dst, e.dst_port)
        for (src, port), name in outs.items():
            self.shapes[(instance, name)] = self.shapes[(src, port)]
            self.redirect[(src, port)] = (instance, name)
        self._moved(members, instance, block.name)
        self.chain[instance] = self.chain[members[0]][:depth - 1]
        self.path[instance] = call.path
        for nid in members:
            del self.chain[nid]

    def _boundary(self, members: list[str]) -> tuple[list[str], list, list]:
        """`members` in the order data flows, and the edges entering and leaving them, in that order too."""
        ids = set(members)
        order = {nid: i for i, nid in enumerate(self.net.topological_order())}
        entering = sorted((e for e in self.net.edges if e.dst in ids and e.src not in ids),
                          key=lambda e: (order[e.dst], e.dst_port))
        leaving = sorted((e for e in self.net.edges if e.src in ids and e.dst not in ids),
                         key=lambda e: (order[e.src], e.src_port))
        return sorted(members, key=order.get), entering, leaving

    def _fill(self, inner: Network, call: Call, members: list[str], entering: list,
              ins: dict[tuple[str, str], str], outs: dict[tuple[str, str], str]) -> None:
        """Copies `members` and their wires into the definition's network, with an Input per value coming in
        (`ins`: named after the forward's parameters) and an Output per value going out (`outs`)."""
        ids = set(members)
        for nid in members:
            node, path = self.net.node(nid), self.path[nid]
            self.index[nid] = path[len(call.path) + 1:] if path.startswith(call.path + ".") else ""
            inner.add_node(node.type, free_name(inner, relative_name(path, call.path, self._kind(node))),
                           node.params, id=nid)
        for e in self.net.edges:
            if e.src in ids and e.dst in ids:
                inner.connect(e.src, e.src_port, e.dst, e.dst_port)
        for (src, port), name in ins.items():
            shape, dtype = self.shapes[(src, port)]
            nid = inner.add_node(catalog.INPUT, name, {"shape": list(shape), "dtype": dtype})
            for e in entering:
                if (e.src, e.src_port) == (src, port):
                    inner.connect(nid, "out", e.dst, e.dst_port)
        for (src, port), name in outs.items():
            inner.connect(src, port, inner.add_node(catalog.OUTPUT, name), "in")

    def _kind(self, node) -> str:
        """What a node is, for a name: its type, or for a Block node the class of the module it stands for."""
        if node.type != BLOCK_TYPE:
            return node.type.lower()
        return type(self.made[node.params["block"]].module).__name__.lstrip("_").lower()

    def _moved(self, members: list[str], instance: str, block: str) -> None:
        inside = []
        for m in members:
            for flat in self.inside.pop(m):
                head = self.where[flat][0]
                head[0] = block
                self.where[flat].insert(0, [ROOT, instance, None])
                inside.append(flat)
        self.inside[instance] = inside

    def _input_names(self, call: Call, sources: list[tuple[str, str]]) -> list[str]:
        """The forward's parameter names for the values coming in, where they can be told apart; x, x2, ... else."""
        names: list[str] = []
        by_source = self._argument_sources(call)
        for i, source in enumerate(sources):
            name = by_source.get(source) or ("x" if i == 0 else f"x{i + 1}")
            base, k = name, 2
            while name in names:
                name, k = f"{base}{k}", k + 1
            names.append(name)
        return names

    def _argument_sources(self, call: Call) -> dict[tuple[str, str], str]:
        """(node id, port) now giving each tensor the call was passed -> the forward's parameter name."""
        found: dict[tuple[str, str], str] = {}
        parameter: dict[tuple[str, str], str] = {}
        for name, nodes in call.args:
            for i, fx_node in enumerate(nodes):
                value = self.values.get(fx_node)
                if isinstance(value, tuple):
                    found.setdefault(self._now(*value), name if i == 0 else f"{name}{i + 1}")
                    parameter.setdefault(self._now(*value), name)
        for concat in self.hoisted.get(call.id, []):  # torch.cat(inputs) moved out: it gives what was passed
            names = {parameter.get(self._now(e.src, e.src_port)) for e in self.net.incoming(concat).values()}
            if len(names) == 1 and None not in names:
                found[self._now(concat, "out")] = names.pop()
        return found

    def _now(self, nid: str, port: str) -> tuple[str, str]:
        value = (nid, port)
        while value in self.redirect:
            value = self.redirect[value]
        return value

    def _block_name(self, call: Call) -> str:
        base = block_base(call)
        name, i = base, 2
        while name in self.project.blocks:
            name, i = f"{base}{i}", i + 1
        return name

    # --- repeats ------------------------------------------------------------------------
    def _repeats(self, height: int) -> None:
        """Containers whose children are one definition chained (0, 1, ...) become that definition repeated."""
        for name in [b for b in self.project.blocks if self._height(b) == height + 1]:
            call = self.made.get(name)
            if call is None or not isinstance(call.module, CONTAINERS):
                continue
            chain = self._chained(self.project.block(name).network)
            if chain:
                self._repeat(name, chain)

    def _chained(self, net: Network) -> list[str] | None:
        """The Block nodes of a container definition in order, when they are copies of one definition, each
        feeding the next, named 0, 1, ... in the module (its Input and Output aside); None otherwise."""
        inner = [n for n in net.nodes.values() if n.role == "layer"]
        if len(inner) < 2 or any(n.type != BLOCK_TYPE or n.params != inner[0].params for n in inner):
            return None
        by_index = {self.index.get(n.id): n.id for n in inner}
        chain = [by_index.get(str(i)) for i in range(len(inner))]
        ins, outs = self.project.block(inner[0].params["block"]).ports()
        if None in chain or len(ins) != 1 or len(outs) != 1:
            return None
        for a, b in zip(chain, chain[1:]):
            if [(e.dst, e.dst_port) for e in net.outgoing(a)] != [(b, ins[0])]:
                return None
        return chain

    def _repeat(self, container: str, chain: list[str]) -> None:
        """The container's Block node becomes its child definition repeated; the container definition goes."""
        net, instance = self._holder(container)
        child = self.project.block(container).network.node(chain[0]).params
        outside = [e for e in net.edges if instance in (e.src, e.dst)]
        ins, outs = self.project.block(child["block"]).ports()
        for e in outside:
            net.disconnect(e)
        net.set_params(instance, {**child, "repeat": len(chain)})
        outside = [(e.src, e.src_port, e.dst, e.dst_port) for e in outside]
        for src, src_port, dst, dst_port in outside:
            if dst == instance:
                net.connect(src, src_port, instance, ins[0])
            else:
                net.connect(instance, outs[0], dst, dst_port)
        position = {nid: i for i, nid in enumerate(chain)}
        for steps in self.where.values():
            for k, step in enumerate(steps):
                if step[0] == container:
                    steps[k - 1][2] = position[step[1]]
                    del steps[k]
                    break
        self.project.remove_block(container)

    def _holder(self, block: str) -> tuple[Network, str]:
        """The network holding the one Block node of `block`, and that node."""
        for net in self.project.all_networks():
            for n in net.nodes.values():
                if n.type == BLOCK_TYPE and n.params.get("block") == block:
                    return net, n.id
        raise KeyError(block)

    # --- names and paths ----------------------------------------------------------------
    def _name(self, net: Network, scope: str) -> None:
        """Names the top network's nodes after their path (the blocks' were named when made)."""
        wanted = {nid: relative_name(self.path.get(nid, net.node(nid).name), scope, self._kind(net.node(nid)))
                  for nid in net.nodes if net.node(nid).role == "layer"}
        for nid in wanted:
            net.rename(nid, f"tmp_{nid}")
        for nid, name in wanted.items():
            net.rename(nid, free_name(net, name))

    def block_names(self) -> dict[str, str]:
        """Block name -> a better one, for the blocks whose name a merge or an outer module changed."""
        taken: set[str] = set()
        out = {}
        for name in self.project.blocks:
            base = block_base(self.made[name])
            new, i = base, 2
            while new in taken:
                new, i = f"{base}{i}", i + 1
            taken.add(new)
            if new != name:
                out[name] = new
        return out

    def paths(self) -> dict[str, str]:
        """Flat node id -> its module path in the compiled network (``features.denseblock1.0.conv1``)."""
        names: dict[Any, dict[str, str]] = {}
        out = {}
        for flat, chain in self.where.items():
            parts = []
            for key, nid, index in chain:
                net = self.net if key is ROOT else self.project.block(key).network
                if key not in names:
                    names[key] = attribute_names(net)
                parts.append(names[key][nid] + (f".{index}" if index is not None else ""))
            out[flat] = ".".join(parts)
        return out
