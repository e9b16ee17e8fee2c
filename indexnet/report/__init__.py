"""The HTML report of a program (``indexnet report``): one self-contained page.

:func:`build_report` returns the page: the program in rendered mathematics
(MathML), each equation with its einsum strings, matrix form, loop nest and
tensor-network diagram (SVG), the derivatives step by step and every claim's
verdict with its diagnosis. :func:`write_report` writes it atomically.
:mod:`~indexnet.report.mathml` is the small MathML writer the page uses.
"""

from .mathml import mathml
from .page import build_report, write_report

__all__ = ["build_report", "mathml", "write_report"]
