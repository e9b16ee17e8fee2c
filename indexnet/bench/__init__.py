"""Path benchmarks: every optimizer's path of an expression, predicted against measured.

* :mod:`~indexnet.bench.equations`: random tensor networks, shapes from sizes;
* :mod:`~indexnet.bench.search`: each optimizer's path under a time budget,
  exponential searches in a worker process that is killed when it overruns;
* :mod:`~indexnet.bench.report`: the rows, as a table, markdown or JSON;
* :mod:`~indexnet.bench.plot`: FLOPs against measured time (matplotlib);
* :mod:`~indexnet.bench.paths`: :func:`bench_paths`, which runs it all.

The timing itself, shared with ``optimize="measured"``, is
:mod:`indexnet.einsum.timing`.
"""

from .equations import left_to_right_path, random_equation, shapes_from_sizes
from .paths import CLOCKS, bench_paths, ix_terms
from .plot import plot_reports
from .report import BenchReport, PathResult
from .search import BENCH_OPTIMIZERS, BUDGET_S, EXTRA_OPTIMIZERS, find_path

__all__ = [
    "BENCH_OPTIMIZERS",
    "BUDGET_S",
    "CLOCKS",
    "EXTRA_OPTIMIZERS",
    "BenchReport",
    "PathResult",
    "bench_paths",
    "find_path",
    "ix_terms",
    "left_to_right_path",
    "plot_reports",
    "random_equation",
    "shapes_from_sizes",
]
