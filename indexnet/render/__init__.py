"""The IR as text and pictures: every printed form, diagrams, contraction trees and HTML.

Compact, document and LaTeX forms, matrix form, loop nests, tensor-network
diagrams, contraction trees and HTML for notebooks.

Importing this package installs the printers that IR statements use for
``str()``, ``_repr_latex_`` and ``_repr_html_`` (the IR itself never imports
a printer), and the displays a :class:`~indexnet.einsum.compiled.Plan` uses
for ``_repr_svg_`` and ``_repr_html_`` (the einsum engine sits below).
"""

from ..einsum import compiled as _compiled
from ..ir import nodes as _nodes
from .diagram import MAX_OPERANDS, diagram
from .html import explain_html, module_html, statement_html, table_html
from .loops import loop_nest
from .matrix import matrix_form
from .text import (
    FORMS,
    Spelling,
    deriv_text,
    einsum_equation,
    in_force,
    latex_aligned,
    latex_name,
    operand_names,
    post_scripted,
    render,
    render_latex,
    render_product,
    scalar_text,
    spelling,
    tensor_text,
    written_form,
)
from .tree import contraction_tree, plan_html, side_by_side

_nodes.PRINTERS.setdefault("compact", render)
_nodes.PRINTERS.setdefault("latex", render_latex)
_nodes.PRINTERS.setdefault("html", statement_html)
_compiled.DISPLAYS.setdefault("svg", contraction_tree)
_compiled.DISPLAYS.setdefault("html", plan_html)

__all__ = [
    "FORMS",
    "MAX_OPERANDS",
    "Spelling",
    "contraction_tree",
    "deriv_text",
    "diagram",
    "einsum_equation",
    "explain_html",
    "in_force",
    "latex_aligned",
    "latex_name",
    "loop_nest",
    "matrix_form",
    "module_html",
    "operand_names",
    "plan_html",
    "post_scripted",
    "render",
    "render_latex",
    "render_product",
    "scalar_text",
    "side_by_side",
    "spelling",
    "statement_html",
    "table_html",
    "tensor_text",
    "written_form",
]
