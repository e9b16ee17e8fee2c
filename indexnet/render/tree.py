"""A plan's contraction tree as SVG: the operands as leaves, each pairwise step a node.

Every step of a :class:`~indexnet.einsum.compiled.Plan` is a box holding its
einsum step, its kind (``matmul``, ``dot``, ``multiply``, ``sum``,
``einsum``), its FLOPs and the size (elements) of the tensor it makes; the
step that makes the largest intermediate is marked (class ``largest``). The
root, at the top, is the plan's output. The layout is a tidy tree: leaves in
the order the tree visits them, each step centred over what it contracts, so
no two lines cross. The SVG needs no network access.

>>> from indexnet.einsum.compiled import cached_plan
>>> svg = contraction_tree(cached_plan("nd,dh,hk->nk", ((8, 4), (4, 6), (6, 3)), "float64",
...                                    "greedy"))
>>> svg.count('class="step'), svg.count('class="leaf"')
(2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from math import prod

from ..einsum.compiled import Plan
from ..errors import InvalidArgumentError

__all__ = ["contraction_tree", "plan_html", "side_by_side"]

_CHAR = 7.0
_LINE = 15.0
_STYLE = (
    "<style>text{font:12px monospace;fill:#222}.leaf rect{fill:#eef3fb;stroke:#2b5797}"
    ".step rect{fill:#fff;stroke:#444}.step.largest rect{stroke:#c0392b;stroke-width:2.5;"
    "fill:#fdecea}.largest .mark{fill:#c0392b;font-weight:bold}line{stroke:#666;"
    "stroke-width:1.5}.title{font:bold 14px sans-serif}.flops{font:13px sans-serif}</style>"
)


@dataclass
class _Box:
    lines: list[str]
    children: list[_Box] = field(default_factory=list)
    step: int | None = None  # the plan's step number; None for an operand
    largest: bool = False
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        return _CHAR * max(len(line) for line in self.lines) + 14

    @property
    def height(self) -> float:
        return _LINE * len(self.lines) + 8


def _tree(plan: Plan) -> _Box:
    """The steps as a tree, replaying the plan's working list (each step pops, then appends)."""
    sizes: dict[str, int] = {}
    for term, shape in zip(plan.subscripts.inputs, plan.shapes):
        for letter, n in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), n)
    working = [_Box([term or "(scalar)", f"operand {k}", "x".join(map(str, shape)) or "()"])
               for k, (term, shape) in enumerate(zip(plan.subscripts.inputs, plan.shapes))]
    made = []
    for i, step in enumerate(plan.steps):
        result = step.subscripts.split("->")[1]
        size = prod(sizes.get(c, 1) for c in result)
        made.append(size)
        box = _Box([step.subscripts, step.kind, f"FLOPs {step.flops:,}", f"size {size:,}"],
                   [working[k] for k in step.operands], step=i)
        working = [b for k, b in enumerate(working) if k not in step.operands] + [box]
    if made:
        top = max(made)
        for box in _walk(working[-1]):
            if box.step is not None and made[box.step] == top:
                box.largest = True
                box.lines.append("largest")
    return working[-1]


def _walk(box: _Box) -> list[_Box]:
    out = [box]
    for child in box.children:
        out += _walk(child)
    return out


def _place(box: _Box, depth_of: dict[int, int], x: float, gap: float) -> float:
    """Place ``box``'s subtree from ``x`` on; return where the next subtree starts."""
    if not box.children:
        box.x = x + box.width / 2
        return x + box.width + gap
    start = x
    for child in box.children:
        x = _place(child, depth_of, x, gap)
    box.x = (box.children[0].x + box.children[-1].x) / 2
    return max(x, start + box.width + gap)


def _height(box: _Box) -> int:
    return 0 if not box.children else 1 + max(_height(c) for c in box.children)


def _drawing(plan: Plan) -> tuple[str, float, float]:
    """The SVG elements of ``plan``'s tree (from (-10, -10)), its width and its height."""
    root = _tree(plan)
    levels = _height(root)
    row = max(b.height for b in _walk(root)) + 36
    right = _place(root, {}, 0.0, 18.0) - 18.0
    parts: list[str] = []
    for box in _walk(root):
        box.y = (levels - _height(box)) * row if box.children else levels * row
    for box in _walk(root):
        for child in box.children:
            parts.append(f'<line x1="{box.x:.1f}" y1="{box.y + box.height:.1f}" '
                         f'x2="{child.x:.1f}" y2="{child.y:.1f}"/>')
    for box in _walk(root):
        cls = "leaf" if box.step is None else "step largest" if box.largest else "step"
        data = f' data-step="{box.step}"' if box.step is not None else ""
        items = [f'<rect x="{box.x - box.width / 2:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
                 f'height="{box.height:.1f}" rx="4"/>']
        for k, line in enumerate(box.lines):
            mark = ' class="mark"' if line == "largest" else ""
            items.append(f'<text x="{box.x:.1f}" y="{box.y + 4 + _LINE * (k + 1) - 3:.1f}" '
                         f'text-anchor="middle"{mark}>{escape(line)}</text>')
        parts.append(f'<g class="{cls}"{data}>{"".join(items)}</g>')
    width, height = right + 20, levels * row + max(b.height for b in _walk(root)) + 20
    return "".join(parts), width, height


def contraction_tree(plan: Plan) -> str:
    """An SVG of ``plan``'s contraction tree, the largest intermediate marked.

    The output is at the top and the operands at the bottom; a plan of a
    single operand with no steps is that operand alone.
    """
    parts, width, height = _drawing(plan)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="indexnet-tree" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="-10 -10 {width:.1f} {height:.1f}">{_STYLE}'
            f"{parts}</svg>")


def side_by_side(plan_a: Plan, plan_b: Plan, titles: Sequence[str] | None = None) -> str:
    """One SVG with the contraction trees of two plans of one einsum, side by side.

    Each tree is headed by its title (default: the plan's optimizer) and its
    total FLOPs; the plan with more FLOPs also says how many times the
    other's it takes (``13.0× the FLOPs of optimal``). Each tree marks its
    own largest intermediate. ``bench --svg`` draws the slowest-planned and
    the best path this way.

    >>> from indexnet.einsum.compiled import cached_plan
    >>> shapes = ((256, 784), (784, 256), (256, 10))
    >>> greedy = cached_plan("nd,dh,hk->nk", shapes, "float64", "greedy")
    >>> best = cached_plan("nd,dh,hk->nk", shapes, "float64", "optimal")
    >>> svg = side_by_side(greedy, best)
    >>> svg.count('class="tree"'), "12.96× the FLOPs of optimal" in svg
    (2, True)
    """
    if str(plan_a.subscripts) != str(plan_b.subscripts) or plan_a.shapes != plan_b.shapes:
        raise InvalidArgumentError(
            f"side_by_side compares two plans of one einsum; got {plan_a.subscripts} "
            f"{plan_a.shapes} and {plan_b.subscripts} {plan_b.shapes}")
    names = list(titles) if titles is not None else [_optimizer(plan_a), _optimizer(plan_b)]
    if len(names) != 2:
        raise InvalidArgumentError(f"side_by_side takes two titles, got {len(names)}")
    plans = (plan_a, plan_b)
    heads = []
    for k, p in enumerate(plans):
        other = plans[1 - k]
        ratio = p.flops / max(other.flops, 1)
        more = f" ({ratio:.2f}× the FLOPs of {names[1 - k]})" if p.flops > other.flops else ""
        heads.append((names[k], f"FLOPs {p.flops:,}{more}"))
    drawn = [_drawing(p) for p in plans]
    header = 2 * _LINE + 14
    x, groups = 0.0, []
    for (title, flops), (parts, width, _) in zip(heads, drawn):
        width = max(width, _CHAR * max(len(title), len(flops)) + 20)
        groups.append(f'<g class="tree" data-title="{escape(title)}" transform="translate('
                      f'{x:.1f},0)"><text x="0" y="{_LINE - 10:.1f}" class="title">'
                      f'{escape(title)}</text><text x="0" y="{2 * _LINE - 10:.1f}" class="flops">'
                      f'{escape(flops)}</text><g transform="translate(0,{header:.1f})">{parts}</g>'
                      "</g>")
        x += width + 40
    width = x - 40 + 20
    height = max(h for _, _, h in drawn) + header + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="indexnet-trees" '
            f'width="{width:.0f}" height="{height:.0f}" viewBox="-10 -10 {width:.1f} '
            f'{height:.1f}">{_STYLE}{"".join(groups)}</svg>')


def _optimizer(plan: Plan) -> str:
    """The name a plan's optimizer goes by (its path, when it was given one)."""
    return plan.optimize if isinstance(plan.optimize, str) else "given path"


def plan_html(plan: Plan) -> str:
    """A plan for a notebook: its summary as text, then its contraction tree.

    >>> from indexnet.einsum.compiled import cached_plan
    >>> plan_html(cached_plan("nd,dh->nh", ((5, 3), (3, 4)), "float64", "auto"))[:5]
    '<div '
    """
    return (f'<div class="indexnet-plan"><pre>{escape(str(plan))}</pre>'
            f"{contraction_tree(plan)}</div>")
