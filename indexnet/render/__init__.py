"""The IR as text: compact, document and LaTeX forms, matrix form, loop nests.

Importing this package installs the compact and LaTeX printers that IR
statements use for ``str()`` and ``_repr_latex_`` (the IR itself never
imports a printer).
"""

from ..ir import nodes as _nodes
from .loops import loop_nest
from .matrix import matrix_form
from .text import (
    FORMS,
    deriv_text,
    einsum_equation,
    latex_name,
    post_scripted,
    render,
    render_latex,
    render_product,
    scalar_text,
)

_nodes.PRINTERS.setdefault("compact", render)
_nodes.PRINTERS.setdefault("latex", render_latex)

__all__ = [
    "FORMS",
    "deriv_text",
    "einsum_equation",
    "latex_name",
    "loop_nest",
    "matrix_form",
    "post_scripted",
    "render",
    "render_latex",
    "render_product",
    "scalar_text",
]
