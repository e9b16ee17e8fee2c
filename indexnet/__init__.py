"""indexnet: tensor-index notation as planned einsum formulas.

>>> import numpy as np, indexnet
>>> x, w = np.ones((4, 3)), np.ones((3, 2))
>>> indexnet.contract("nd,dh->nh", x, w).shape
(4, 2)
>>> str(indexnet.derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
"""

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AllocationError,
    ArrayLibraryError,
    CheckpointError,
    ClusterError,
    DataError,
    DivergenceError,
    FormulaSyntaxError,
    GradcheckError,
    IndexnetError,
    InternalError,
    InvalidArgumentError,
    MemoryLimitError,
    MissingExtraError,
    NonFiniteError,
    NotSupportedError,
    OperandCountError,
    ProgramError,
    ProgramSizeError,
    ProgramSyntaxError,
    SizeMismatchError,
    VarianceError,
)

if TYPE_CHECKING:  # what the names below load on first use, for type checkers
    from .bench import BenchReport, bench_paths
    from .check.gradcheck import GradcheckReport, TensorCheck, gradcheck
    from .check.judge import CheckReport, ClaimResult
    from .einsum.backprop import Pullback, value_and_grad, value_and_vjp
    from .einsum.plan import Plan, Step, contract, plan
    from .einsum.subscripts import Subscripts
    from .einsum.subscripts import parse as parse_subscripts
    from .einsum.vjp import Derivative, derivative, vjp
    from .program import Program, parse
    from .seednet.nn import Network
    from .seednet.seed import SEED, SeedFormula

#: Where each public name lives: ``import indexnet`` loads none of these modules
#: (NumPy, opt_einsum, the language, the benchmarks); the first use of a name does.
_LAZY = {
    "BenchReport": "bench", "bench_paths": "bench",
    "GradcheckReport": "check.gradcheck", "TensorCheck": "check.gradcheck",
    "gradcheck": "check.gradcheck",
    "CheckReport": "check.judge", "ClaimResult": "check.judge",
    "Plan": "einsum.plan", "Step": "einsum.plan", "contract": "einsum.plan",
    "plan": "einsum.plan",
    "Subscripts": "einsum.subscripts", "parse_subscripts": "einsum.subscripts:parse",
    "Derivative": "einsum.vjp", "derivative": "einsum.vjp", "vjp": "einsum.vjp",
    "Pullback": "einsum.backprop", "value_and_grad": "einsum.backprop",
    "value_and_vjp": "einsum.backprop",
    "Program": "program", "parse": "program",
    "Network": "seednet.nn",
    "SEED": "seednet.seed", "SeedFormula": "seednet.seed",
}


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562), then keep the name here."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'indexnet' has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "SEED",
    "AllocationError",
    "ArrayLibraryError",
    "BenchReport",
    "CheckReport",
    "CheckpointError",
    "ClaimResult",
    "ClusterError",
    "DataError",
    "Derivative",
    "DivergenceError",
    "FormulaSyntaxError",
    "GradcheckError",
    "GradcheckReport",
    "IndexnetError",
    "InternalError",
    "InvalidArgumentError",
    "MemoryLimitError",
    "MissingExtraError",
    "Network",
    "NonFiniteError",
    "NotSupportedError",
    "OperandCountError",
    "Plan",
    "Program",
    "ProgramError",
    "ProgramSizeError",
    "ProgramSyntaxError",
    "Pullback",
    "SeedFormula",
    "SizeMismatchError",
    "Step",
    "Subscripts",
    "TensorCheck",
    "VarianceError",
    "__version__",
    "bench_paths",
    "contract",
    "derivative",
    "gradcheck",
    "parse",
    "parse_subscripts",
    "plan",
    "value_and_grad",
    "value_and_vjp",
    "vjp",
]
