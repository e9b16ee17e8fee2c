"""Tensor-network diagrams as SVG: every tensor a node, every summed index an edge.

:func:`diagram` draws an einsum string, a product term or a statement
(equation, claim, derivation) as a tensor network, in Penrose's graphical
notation: an upper index leaves its node upward and a lower index downward,
so a contraction of a lower index with an upper one is a line running down
from one node into the top of the next. A free index is a dangling leg
labelled with its letter (and its size when ``sizes`` are given); an index
summed inside one factor (``A^i_i``) is a loop, class ``trace``; a free index
that several factors share (a Hadamard product, ``x^n_h y^n_h``) meets in a
dot, class ``hadamard``, whose own leg is the free index; an index summed
over three or more factors meets in a dot, class ``junction``; an index
summed in one factor only (``sum_n a^n_h``) ends in a small circle (the
all-ones vector), class ``sum``; a Kronecker delta (``eye^i_j``) is a black
dot, class ``delta``. A plain einsum string has no upper or lower indices:
its nodes are placed by a force layout and its legs point away from the
middle. Layout uses networkx (the ``diagrams`` extra), imported when a
diagram is drawn. The SVG needs no network access: no scripts, no fonts. The graph and its
layout are :mod:`indexnet.render.network`'s; this module draws them.

>>> svg = diagram("nd,dh->nh", {"n": 5, "d": 3, "h": 4})  # doctest: +SKIP
>>> svg.startswith("<svg") and 'data-index="d"' in svg  # doctest: +SKIP
True
"""

from __future__ import annotations

import math
from html import escape
from typing import Union

from .. import ir
from ..errors import InvalidArgumentError
from .network import (
    DOWN,
    FREE,
    MAX_OPERANDS,
    UP,
    Link,
    Net,
    Node,
    Point,
    Port,
    einsum_net,
    layout,
    links_of,
    product_net,
    require_networkx,
    target_sides,
)
from .text import render, scalar_text

__all__ = ["MAX_OPERANDS", "diagram", "require_networkx"]

Drawable = Union[str, ir.Product, ir.Equation, ir.Claim, ir.Derivation]  # noqa: UP007

_CHAR = 7.0  # width of one character of 12px text, roughly
_LEG = 34.0  # length of a dangling leg
_STYLE = (
    "<style>text{font:12px sans-serif;fill:#222}.node rect{fill:#eef3fb;stroke:#2b5797;"
    "stroke-width:1.5}.node.call rect{fill:#f6f6f6;stroke-dasharray:4 2}.node.delta circle"
    "{fill:#222}.node.delta text{fill:#fff}.edge,.leg,.trace,.sum{fill:none;stroke:#444;"
    "stroke-width:1.5}.trace{stroke:#8e44ad;stroke-dasharray:5 3}.hadamard circle{fill:#e67e22}"
    ".junction circle{fill:#444}.sum circle{fill:#fff;stroke:#444}.leg-label{font-weight:bold}"
    ".title{font-size:13px}</style>"
)


def diagram(obj: Drawable, sizes: dict[str, int] | None = None, *, title: bool = True) -> str:
    """An SVG tensor-network diagram of an einsum string, a product term or a statement.

    ``sizes`` (letter → size) adds each index's size to its label. A
    statement's diagram is headed by the statement as text, unless ``title``
    is False (where the statement is shown beside it already: a title as wide
    as a long equation widens the whole picture). An einsum
    of more than :data:`MAX_OPERANDS` operands is an
    :class:`~indexnet.InvalidArgumentError` (draw its contraction tree,
    :func:`~indexnet.render.contraction_tree`, instead).

    >>> diagram(",".join(["ij"] * 31) + "->")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    indexnet.errors.InvalidArgumentError: an einsum of 31 operands is too large to draw ...
    """
    sizes = dict(sizes or {})
    if isinstance(obj, str):
        return _svg([("", einsum_net(obj))], "", sizes)
    if isinstance(obj, ir.Product):
        return _svg([(scalar_text(obj.coefficient, obj.consts), product_net(obj))], "", sizes)
    if isinstance(obj, (ir.Equation, ir.Claim, ir.Derivation)):
        panels = [(scalar_text(t.coefficient, t.consts), product_net(t, target_sides(obj)))
                  for t in obj.rhs.terms]
        return _svg(panels, render(obj) if title else "", sizes)
    raise InvalidArgumentError(
        f"diagram draws an einsum string, a product or an equation, not {type(obj).__name__}")



# -- drawing ------------------------------------------------------------------------------


class _Canvas:
    """SVG elements and their bounding box."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.box = [math.inf, math.inf, -math.inf, -math.inf]

    def extend(self, *points: Point) -> None:
        for x, y in points:
            self.box = [min(self.box[0], x), min(self.box[1], y),
                        max(self.box[2], x), max(self.box[3], y)]

    def text(self, x: float, y: float, text: str, cls: str = "", anchor: str = "middle") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.items.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{attr}>'
                          f"{escape(text)}</text>")
        width = _CHAR * len(text)
        left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        self.extend((left, y - 12), (left + width, y + 4))


def _label(letter: str, sizes: dict[str, int]) -> str:
    return f"{letter}={sizes[letter]}" if letter in sizes else letter


def _direction(port: Port) -> Point:
    """Which way a line leaves a port: up, down, or nowhere in particular (no variance)."""
    return {UP: (0.0, -1.0), DOWN: (0.0, 1.0)}.get(port.side, (0.0, 0.0))


def _aims(net: Net, links: list[Link]) -> dict[int, list[Point]]:
    """For each node, the ways its legs without variance point, in the order they are drawn.

    They point away from the node's neighbours (else from the middle of the
    picture, else down), fanned 40° apart when a node has several.
    """
    nodes = net.nodes
    near: dict[int, set[int]] = {k: set() for k in range(len(nodes))}
    wanted = dict.fromkeys(range(len(nodes)), 0)
    for link in links:
        ends = {p.node for p in link.ports}
        if link.junction is not None:
            ends.add(link.junction)
        for u in ends:
            near[u] |= ends - {u}
        if link.kind in ("leg", "sum"):
            wanted[link.ports[0].node] += link.ports[0].side == FREE
        elif link.kind == "hadamard" and link.letter not in net.output_side:
            wanted[link.junction or 0] += 1
    middle = (sum(n.center[0] for n in nodes) / len(nodes),
              sum(n.center[1] for n in nodes) / len(nodes))
    aims: dict[int, list[Point]] = {}
    for k, node in enumerate(nodes):
        base = _widest_gap([_unit(nodes[m].center, node.center) for m in near[k]],
                           _unit(node.center, middle))
        count = wanted[k]
        aims[k] = [(math.cos(base + math.radians(40) * (i - (count - 1) / 2)),
                    math.sin(base + math.radians(40) * (i - (count - 1) / 2)))
                   for i in range(count)]
    return aims


def _widest_gap(towards: list[Point], fallback: Point) -> float:
    """The angle midway across the widest gap between the directions ``towards`` neighbours."""
    angles = sorted(math.atan2(y, x) for x, y in towards if (x, y) != (0.0, 0.0))
    if not angles:
        return math.atan2(fallback[1], fallback[0]) if fallback != (0.0, 0.0) else math.pi / 2
    gaps = [(angles[(i + 1) % len(angles)] - a) % (2 * math.pi) or 2 * math.pi
            for i, a in enumerate(angles)]
    i = max(range(len(gaps)), key=gaps.__getitem__)
    return angles[i] + gaps[i] / 2


def _unit(a: Point, b: Point) -> Point:
    """The unit vector from ``b`` to ``a`` ((0, 0) when they coincide)."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    norm = math.hypot(dx, dy)
    return (dx / norm, dy / norm) if norm > 1e-9 else (0.0, 0.0)


def _curve(a: Point, da: Point, b: Point, db: Point) -> tuple[str, Point]:
    """A cubic Bézier from ``a`` (leaving along ``da``) to ``b`` (entering against ``db``)."""
    reach = max(30.0, abs(b[1] - a[1]) / 2)
    c1 = (a[0] + da[0] * reach, a[1] + da[1] * reach)
    c2 = (b[0] + db[0] * reach, b[1] + db[1] * reach)
    mid = ((a[0] + 3 * c1[0] + 3 * c2[0] + b[0]) / 8, (a[1] + 3 * c1[1] + 3 * c2[1] + b[1]) / 8)
    d = (f"M{a[0]:.1f},{a[1]:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} "
         f"{b[0]:.1f},{b[1]:.1f}")
    return d, mid


def _draw_net(canvas: _Canvas, net: Net, links: list[Link], sizes: dict[str, int]) -> None:
    nodes = net.nodes
    aims = _aims(net, links)
    for link in links:
        _draw_link(canvas, net, link, aims, _label(link.letter, sizes))
    for k, node in enumerate(nodes):
        _draw_node(canvas, k, node)


def _draw_link(canvas: _Canvas, net: Net, link: Link, aims: dict[int, list[Point]],
               label: str) -> None:
    nodes = net.nodes
    ends = [(p.at, _direction(p)) for p in link.ports]
    letter = escape(link.letter)
    if link.kind == "edge":
        (a, da), (b, db) = ends
        d, mid = _curve(a, da, b, db)
        canvas.items.append(f'<path class="edge" data-index="{letter}" data-from='
                            f'"{link.ports[0].node}" data-to="{link.ports[1].node}" d="{d}"/>')
        canvas.extend(a, b, mid)
        canvas.text(mid[0] + 4, mid[1] - 3, label, anchor="start")
    elif link.kind == "trace":
        node = nodes[link.ports[0].node]
        right = node.center[0] + node.width / 2 + 26
        (a, da), (b, db) = ends
        if link.ports[0].side == FREE:  # a plain einsum: a loop off the node's right side
            edge = node.center[0] + node.width / 2
            a, b = (edge - 4, node.center[1] - 6), (edge - 4, node.center[1] + 6)
            da, db = (0.0, -1.0), (0.0, 1.0)
        c1 = (right, a[1] + da[1] * 30)
        c2 = (right, b[1] + db[1] * 30)
        canvas.items.append(f'<path class="trace" data-index="{letter}" data-node='
                            f'"{link.ports[0].node}" d="M{a[0]:.1f},{a[1]:.1f} C{c1[0]:.1f},'
                            f'{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {b[0]:.1f},{b[1]:.1f}"/>')
        canvas.extend(a, b, c1, c2)
        canvas.text(right + 4, node.center[1] + 4, f"tr {label}", anchor="start")
    elif link.kind in ("leg", "sum"):
        (a, da), = ends
        if link.ports[0].side == FREE:
            da = aims[link.ports[0].node].pop(0)
        _draw_leg(canvas, link, a, da, label)
    else:
        _draw_junction(canvas, net, link, ends, aims, label)


def _draw_leg(canvas: _Canvas, link: Link, a: Point, da: Point, label: str,
              node: int | None = None) -> None:
    port = link.ports[0] if link.ports else None
    side = {UP: "upper", DOWN: "lower"}.get(port.side if port and node is None else "", "")
    start = a
    if port is not None and port.side == FREE and node is None:
        start = (a[0] + da[0] * 18, a[1] + da[1] * 18)  # from the node's edge, not its middle
    end = (start[0] + da[0] * _LEG, start[1] + da[1] * _LEG)
    origin = port.node if node is None and port is not None else node
    cls = "leg" if link.kind in ("leg", "hadamard") else "sum"
    attrs = f'data-index="{escape(link.letter)}" data-node="{origin}"'
    if side:
        attrs += f' data-variance="{side}"'
    canvas.items.append(f'<g class="{cls}" {attrs}><line x1="{start[0]:.1f}" y1="{start[1]:.1f}" '
                        f'x2="{end[0]:.1f}" y2="{end[1]:.1f}"/>' + (
                            f'<circle cx="{end[0]:.1f}" cy="{end[1]:.1f}" r="4"/>'
                            if cls == "sum" else "") + "</g>")
    canvas.extend(start, end)
    text_at = (end[0] + da[0] * 12, end[1] + da[1] * 12 + 4)
    canvas.text(*text_at, ("Σ" + label) if cls == "sum" else label,
                "leg-label" if cls == "leg" else "")


def _draw_junction(canvas: _Canvas, net: Net, link: Link, ends: list[tuple[Point, Point]],
                   aims: dict[int, list[Point]], label: str) -> None:
    assert link.junction is not None
    dot = net.nodes[link.junction]
    center = dot.center
    for port, (a, da) in zip(link.ports, ends):
        d, _ = _curve(a, da, center, (0.0, 0.0))
        canvas.items.append(f'<path class="edge" data-index="{escape(link.letter)}" data-from='
                            f'"{port.node}" data-to="{link.junction}" d="{d}"/>')
        canvas.extend(a, center)
    if link.kind == "hadamard":
        side = net.output_side.get(link.letter, FREE)
        direction = {UP: (0.0, -1.0), DOWN: (0.0, 1.0)}.get(side) or aims[link.junction].pop(0)
        _draw_leg(canvas, Link(link.letter, "hadamard", []), center, direction, label,
                  node=link.junction)
    else:
        canvas.text(center[0] + 8, center[1] - 6, label, anchor="start")


def _draw_node(canvas: _Canvas, k: int, node: Node) -> None:
    cx, cy = node.center
    head = f'<g class="node {node.kind}" data-node="{k}" data-name="{escape(node.label)}" ' \
           f'data-cx="{cx:.1f}" data-cy="{cy:.1f}">'
    if node.kind in ("hadamard", "junction"):
        canvas.items.append(f'{head}<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5"/></g>')
    elif node.kind == "delta":
        canvas.items.append(f'{head}<circle cx="{cx:.1f}" cy="{cy:.1f}" r="11"/>'
                            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle">δ</text>'
                            "</g>")
    else:
        w, h = node.width, node.height
        canvas.items.append(f'{head}<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" '
                            f'width="{w:.1f}" height="{h:.1f}" rx="6"/><text x="{cx:.1f}" '
                            f'y="{cy + 4:.1f}" text-anchor="middle">{escape(node.label)}'
                            "</text></g>")
    canvas.extend((cx - node.width / 2, cy - node.height / 2),
                  (cx + node.width / 2, cy + node.height / 2))


def _panel(net: Net, scalar: str, sizes: dict[str, int]) -> _Canvas:
    canvas = _Canvas()
    if not net.nodes:
        canvas.text(0, 0, scalar or "1")
        return canvas
    links = links_of(net)
    layout(net, links)
    _draw_net(canvas, net, links, sizes)
    if scalar:
        canvas.text(canvas.box[0] - 8, sum(n.center[1] for n in net.nodes) / len(net.nodes),
                    scalar, anchor="end")
    return canvas


def _svg(panels: list[tuple[str, Net]], title: str, sizes: dict[str, int]) -> str:
    """Lay the panels (the terms of a sum) side by side, ``+`` between, under ``title``."""
    parts: list[str] = []
    x = 0.0
    top, bottom = 0.0, 0.0
    drawn = [_panel(net, scalar, sizes) for scalar, net in panels]
    for k, canvas in enumerate(drawn):
        left, up, right, low = canvas.box
        if k:
            parts.append(f'<text x="{x + 12:.1f}" y="{4:.1f}" text-anchor="middle" '
                         'class="plus">+</text>')
            x += 24
        parts.append(f'<g class="term" data-term="{k}" transform="translate('
                     f'{x - left:.1f},{-(up + low) / 2:.1f})">{"".join(canvas.items)}</g>')
        x += right - left
        top, bottom = min(top, -(low - up) / 2), max(bottom, (low - up) / 2)
    if title:
        parts.insert(0, f'<text x="0" y="{top - 18:.1f}" class="title">{escape(title)}</text>')
        top -= 36
        x = max(x, 7.6 * len(title))
    pad = 12.0
    width, height = x + 2 * pad, bottom - top + 2 * pad
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="indexnet-diagram" '
            f'width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="{-pad:.1f} {top - pad:.1f} {width:.1f} {height:.1f}">'
            f"{_STYLE}{''.join(parts)}</svg>")
