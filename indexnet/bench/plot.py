"""Plots of benchmark reports: predicted FLOPs against measured time, one panel per expression.

Needs matplotlib (``pip install indexnet[plot]``), imported only when a plot
is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import InvalidArgumentError
from ..fileio import check_output_path, write_figure_png
from .report import BenchReport

__all__ = ["plot_reports"]


def plot_reports(reports: Sequence[BenchReport], filename: str, *, title: str | None = None
                 ) -> None:
    """Save FLOPs against measured time, one point per optimizer, one panel per report.

    Optimizers whose paths coincide share a point and a label. The PNG is
    written atomically (:func:`~indexnet.fileio.write_figure_png`); a missing
    folder, a folder or a name not ending in ``.png`` is a
    :class:`~indexnet.CheckpointError`, found before anything is drawn. Needs
    matplotlib (``pip install indexnet[plot]``).
    """
    check_output_path(filename, "plot", ".png")
    try:
        # optional (indexnet[plot]): only a plot needs matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InvalidArgumentError(
            "plotting needs matplotlib: pip install matplotlib (or indexnet[plot])"
        ) from None
    panels = [r for r in reports if any(x.run_seconds is not None for x in r.results)]
    if not panels:
        raise InvalidArgumentError("nothing to plot: no optimizer's path was run")
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(5.2 * cols, 4.2 * rows), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    for k, report in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        points: dict[tuple[int, float], list[str]] = {}
        for r in report.results:
            if r.run_seconds is not None and r.flops is not None:
                points.setdefault((r.flops, r.run_seconds), []).append(r.optimizer)
        fastest = report.fastest
        for k, ((flops, seconds), names) in enumerate(sorted(points.items())):
            best = fastest in names
            ax.scatter([flops], [seconds * 1e3], s=60 if best else 36,
                       color="tab:red" if best else "tab:blue", zorder=3)
            label = ",\n".join(", ".join(names[i:i + 3]) for i in range(0, len(names), 3))
            ax.annotate(label, (flops, seconds * 1e3), fontsize=7,
                        xytext=(5, 4 if k % 2 == 0 else -10), textcoords="offset points",
                        va="bottom" if k % 2 == 0 else "top")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("FLOPs (predicted)")
        ax.set_ylabel("measured ms per call")
        expr = report.expression if len(report.expression) <= 48 else \
            report.expression[:45] + "..."
        ax.set_title(expr, fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    write_figure_png(fig, filename, "plot")
