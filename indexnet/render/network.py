"""Tensor networks as graphs, laid out: what :mod:`indexnet.render.diagram` draws.

An einsum string, or a product term of the language, becomes a :class:`Net`:
a :class:`Node` per factor with a :class:`Port` per index it carries (on its
upper or lower side, or on neither for a plain einsum string), and a
:class:`Link` per letter saying how its ports are joined (an edge, a trace,
a dangling leg, a sum over one factor, or a dot where a Hadamard product or
a sum over three or more factors meets). :func:`layout` places the nodes
with networkx (the ``diagrams`` extra): in layers for Penrose's notation (a
node above every node its lower legs run into), by a force layout for a
plain einsum string. Nothing here writes SVG.

>>> net = einsum_net("nd,dh->nh")
>>> [(link.letter, link.kind) for link in links_of(net)]
[('n', 'leg'), ('d', 'edge'), ('h', 'leg')]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

from .. import ir
from ..einsum.subscripts import parse as parse_subscripts
from ..errors import InvalidArgumentError

__all__ = [
    "DOWN",
    "FREE",
    "MAX_OPERANDS",
    "UP",
    "Link",
    "Net",
    "Node",
    "Point",
    "Port",
    "einsum_net",
    "layout",
    "links_of",
    "product_net",
    "require_networkx",
    "target_sides",
]

#: An einsum of more operands than this is too large to draw legibly.
MAX_OPERANDS = 30

Point = tuple[float, float]

#: The sides of a node a leg leaves from: upper, lower, or none (a plain einsum string).
UP, DOWN, FREE = "up", "down", ""
_CHAR = 7.0  # width of one character of 12px text, roughly
_ROW = 110.0  # distance between layers of a Penrose layout


def require_networkx() -> Any:
    """The networkx module, or an :class:`~indexnet.InvalidArgumentError` saying how to get it.

    >>> require_networkx().__name__  # doctest: +SKIP
    'networkx'
    """
    try:  # deferred: networkx is an optional dependency (the ``diagrams`` extra)
        import networkx
    except ImportError:
        raise InvalidArgumentError(
            "drawing a diagram needs networkx: pip install 'indexnet[diagrams]'") from None
    return networkx


@dataclass
class Port:
    """Where one index leaves a node: its letter, its side, and (once laid out) its place."""

    node: int
    letter: str
    side: str  # UP, DOWN or FREE (no variance: a plain einsum string)
    at: Point = (0.0, 0.0)


@dataclass
class Node:
    """One node: a factor (tensor, delta, call) or a dot (hadamard, junction), placed."""

    label: str
    kind: str  # tensor, delta, call, hadamard, junction
    ports: list[Port] = field(default_factory=list)
    center: Point = (0.0, 0.0)
    width: float = 0.0
    height: float = 28.0
    extra: float = 0.0  # room on the right for a trace's loop


@dataclass
class Net:
    """One product as a graph: factor nodes, and the letters that are free."""

    nodes: list[Node]
    free: str
    penrose: bool
    output_side: dict[str, str] = field(default_factory=dict)



# -- building the graph --------------------------------------------------------------------


def _too_large(count: int) -> None:
    if count > MAX_OPERANDS:
        raise InvalidArgumentError(
            f"an einsum of {count} operands is too large to draw legibly (at most "
            f"{MAX_OPERANDS}); draw its contraction tree instead")


def einsum_net(subscripts: str) -> Net:
    """A plain einsum string as a net: operands ``A``, ``B``, … with legs on no side."""
    parsed = parse_subscripts(subscripts)
    if any("..." in t for t in (*parsed.inputs, parsed.output)):
        raise InvalidArgumentError("write the letters for '...' to draw an einsum string")
    _too_large(len(parsed.inputs))
    nodes = []
    for k, term in enumerate(parsed.inputs):
        name = chr(ord("A") + k) if k < 26 else f"T{k}"
        nodes.append(Node(name, "tensor", [Port(k, c, FREE) for c in term]))
    return Net(nodes, parsed.output, penrose=False)


def target_sides(stmt: ir.Equation | ir.Claim | ir.Derivation) -> dict[str, str]:
    """Which way each free letter of a statement points: as the left-hand side writes it."""
    if isinstance(stmt, ir.Equation):
        refs = [(stmt.target, False)]
    else:  # dL/dW^d: W's upper letters are lower in the derivative, and back
        refs = [(stmt.top, False)] if stmt.top is not None else []
        refs.append((stmt.wrt, True))
    sides: dict[str, str] = {}
    for ref, flip in refs:
        if ref is None:
            continue
        for c in ref.upper:
            sides.setdefault(c, DOWN if flip else UP)
        for c in ref.lower:
            sides.setdefault(c, UP if flip else DOWN)
    return sides


def product_net(product: ir.Product, output_side: dict[str, str] | None = None) -> Net:
    """A product term as a net: upper legs up, lower legs down (``output_side``: the free ones)."""
    _too_large(len(product.factors))
    nodes = []
    for k, factor in enumerate(product.factors):
        label, kind, legs = _factor_legs(factor)
        nodes.append(Node(label, kind, [Port(k, c, side) for c, side in legs]))
    return Net(nodes, product.output, penrose=True, output_side=dict(output_side or {}))


def _factor_legs(factor: ir.Factor) -> tuple[str, str, list[tuple[str, str]]]:
    """A factor's label, kind of node and legs (letter, side)."""
    wrap = ""
    while isinstance(factor, (ir.Power, ir.Inverse)):
        wrap = wrap or ("1/" if isinstance(factor, ir.Inverse) else "^" + str(factor.exponent))
        factor = factor.base
    legs: list[tuple[str, str]]
    if isinstance(factor, ir.Eye):
        return "δ", "delta", _sided(factor.upper, factor.lower)
    if isinstance(factor, ir.Ref):
        label = factor.key + ("ᵀ" if factor.transposed else "")
        legs = _sided(factor.upper, factor.lower)
    elif isinstance(factor, ir.Window):
        letters = ["".join(c for c, _ in slot) for slot, _ in factor.slots]
        legs = _sided("".join(letters[:factor.upper]), "".join(letters[factor.upper:]))
        label = "eye" if factor.eye else factor.key
    elif isinstance(factor, ir.DerivRef):
        legs = _sided(factor.top.upper, factor.top.lower) if factor.top is not None else []
        legs += _sided(factor.wrt.lower, factor.wrt.upper)
        label = f"d{factor.of}/d{factor.wrt.key}"
    else:
        inner = factor.args if isinstance(factor, ir.Call) else (factor.sum,)
        label = f"{factor.function}(…)" if isinstance(factor, ir.Call) else "(…)"
        legs = [(c, _inner_side(inner, c)) for c in ir.factor_output(factor)]
        return _wrapped(label, wrap), "call", legs
    return _wrapped(label, wrap), "tensor", legs


def _wrapped(label: str, wrap: str) -> str:
    if wrap == "1/":
        return "1/" + label
    return label + wrap if wrap else label


def _sided(upper: str, lower: str) -> list[tuple[str, str]]:
    return [(c, UP) for c in upper] + [(c, DOWN) for c in lower]


def _inner_side(sums: tuple[ir.Sum, ...], letter: str) -> str:
    """The side of ``letter`` where a sum inside a call first writes it (down if nowhere)."""
    for expr in sums:
        for ref in ir.iter_refs(expr):
            if letter in ref.upper:
                return UP
            if letter in ref.lower:
                return DOWN
    return DOWN


@dataclass
class Link:
    """How the ports of one letter are joined."""

    letter: str
    kind: str  # edge, trace, leg, sum, hadamard, junction
    ports: list[Port]
    junction: int | None = None  # the index of the dot's node, for hadamard and junction


def links_of(net: Net) -> list[Link]:
    """One link per letter; a letter shared three ways, or free and shared, gets a dot node."""
    by_letter: dict[str, list[Port]] = {}
    for node in net.nodes:
        for port in node.ports:
            by_letter.setdefault(port.letter, []).append(port)
    links = []
    for letter, ports in by_letter.items():
        free = letter in net.free
        if len(ports) == 1:
            kind = "leg" if free else "sum"
        elif len(ports) == 2 and not free:
            kind = "trace" if ports[0].node == ports[1].node else "edge"
        else:
            kind = "hadamard" if free else "junction"
        link = Link(letter, kind, ports)
        if kind in ("hadamard", "junction"):
            link.junction = len(net.nodes)
            net.nodes.append(Node("", kind, [], width=10.0, height=10.0))
        links.append(link)
    return links


# -- layout -----------------------------------------------------------------------------------


def layout(net: Net, links: list[Link]) -> None:
    """Place every node (networkx), then every port on its node."""
    nx = require_networkx()
    graph = nx.Graph()
    graph.add_nodes_from(range(len(net.nodes)))
    down = nx.DiGraph()  # u → v: u sits above v (u's lower leg meets v's upper leg)
    down.add_nodes_from(range(len(net.nodes)))
    for link in links:
        ends = [(p.node, p.side) for p in link.ports]
        if link.junction is not None:
            pairs = [((n, s), (link.junction, FREE)) for n, s in ends]
        elif link.kind == "edge":
            pairs = [(ends[0], ends[1])]
        else:
            pairs = []
        for (u, su), (v, sv) in pairs:
            graph.add_edge(u, v)
            order = _above(u, su, v, sv) if net.penrose else None
            if order is not None:
                down.add_edge(*order)
    for link in links:
        if link.kind == "trace":
            net.nodes[link.ports[0].node].extra = 44.0
    for node in net.nodes:
        if node.kind in ("tensor", "call"):
            node.width = max(34.0, _CHAR * len(node.label) + 16,
                             18.0 * max(_count(node, UP), _count(node, DOWN)) + 10)
        elif node.kind == "delta":
            node.width = node.height = 22.0
    if net.penrose:
        _layered(nx, graph, down, net)
    else:
        _spring(nx, graph, net)
    for node in net.nodes:
        _place_ports(node)


def _count(node: Node, side: str) -> int:
    return sum(p.side == side for p in node.ports)


def _above(u: int, su: str, v: int, sv: str) -> tuple[int, int] | None:
    """(upper node, lower node) when a line joins ``u``'s leg on ``su`` to ``v``'s on ``sv``.

    A lower leg runs down into an upper one; a dot (no side) sits below a
    lower leg and above an upper one; two upper (or two lower) legs say nothing.
    """
    if u == v or su == sv:
        return None
    if su == DOWN or sv == UP:
        return (u, v)
    return (v, u)


def _layered(nx: Any, graph: Any, down: Any, net: Net) -> None:
    """Penrose layout: a node lies above every node its lower legs run into.

    networkx finds the layers (the generations of the graph of "runs down
    into", its cycles condensed); within a layer, nodes go in the order of
    their neighbours above them (their barycentre), else as written.
    """
    dag = nx.condensation(down)
    layer_of: dict[int, int] = {}
    for depth, members in enumerate(nx.topological_generations(dag)):
        for scc in members:
            for node in dag.nodes[scc]["members"]:
                layer_of[node] = depth
    rows: dict[int, list[int]] = {}
    for k in range(len(net.nodes)):
        rows.setdefault(layer_of.get(k, 0), []).append(k)
    for depth in sorted(rows):
        row = sorted(rows[depth], key=functools.partial(_barycentre, graph, net, layer_of,
                                                        depth=depth))
        total = sum(net.nodes[k].width + net.nodes[k].extra for k in row) + 50.0 * (len(row) - 1)
        x = -total / 2
        for k in row:
            node = net.nodes[k]
            node.center = (x + node.width / 2, depth * _ROW)
            x += node.width + node.extra + 50.0


def _barycentre(graph: Any, net: Net, layer_of: dict[int, int], k: int,
                depth: int) -> tuple[float, int]:
    """Where node ``k``'s neighbours in the layers above lie, on average (then ``k``)."""
    placed = [net.nodes[m].center[0] for m in graph.neighbors(k) if layer_of.get(m, 0) < depth]
    return (sum(placed) / len(placed) if placed else 0.0, k)


def _spring(nx: Any, graph: Any, net: Net) -> None:
    """A plain einsum: a force layout (deterministic) per connected part, parts side by side."""
    x = 0.0
    for part in sorted(nx.connected_components(graph), key=min):
        members = sorted(part)
        if len(members) == 1:
            pos = {members[0]: (0.0, 0.0)}
        else:
            pos = nx.spring_layout(graph.subgraph(members), seed=1, iterations=60)
        scale = 45.0 * math.sqrt(len(members)) + 30
        left = min(float(pos[k][0]) * scale - net.nodes[k].width / 2 for k in members)
        right = max(float(pos[k][0]) * scale + net.nodes[k].width / 2 for k in members)
        for k in members:
            net.nodes[k].center = (x - left + float(pos[k][0]) * scale, float(pos[k][1]) * scale)
        x += right - left + 90.0


def _place_ports(node: Node) -> None:
    cx, cy = node.center
    if node.kind in ("hadamard", "junction"):
        return
    for side, y in ((UP, cy - node.height / 2), (DOWN, cy + node.height / 2)):
        mine = [p for p in node.ports if p.side == side]
        for i, port in enumerate(mine):
            port.at = (cx + (i - (len(mine) - 1) / 2) * 18.0, y)
    for port in node.ports:
        if port.side == FREE:
            port.at = (cx, cy)

