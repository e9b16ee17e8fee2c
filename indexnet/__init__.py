"""indexnet: tensor-index notation as planned einsum formulas.

>>> import numpy as np, indexnet
>>> x, w = np.ones((4, 3)), np.ones((3, 2))
>>> indexnet.contract("nd,dh->nh", x, w).shape
(4, 2)
>>> str(indexnet.derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
"""

from .bench import BenchReport, bench_paths
from .check.gradcheck import GradcheckReport, TensorCheck, gradcheck
from .check.judge import CheckReport, ClaimResult
from .einsum.plan import Plan, Step, contract, plan
from .einsum.subscripts import Subscripts
from .einsum.subscripts import parse as parse_subscripts
from .einsum.vjp import Derivative, derivative, vjp
from .errors import (
    CheckpointError,
    DataError,
    FormulaSyntaxError,
    GradcheckError,
    IndexnetError,
    InternalError,
    InvalidArgumentError,
    MemoryLimitError,
    NonFiniteError,
    NotSupportedError,
    OperandCountError,
    ProgramError,
    ProgramSizeError,
    ProgramSyntaxError,
    SizeMismatchError,
    VarianceError,
)
from .program import Program, parse
from .seednet.nn import Network
from .seednet.seed import SEED, SeedFormula

__version__ = "0.1.0"

__all__ = [
    "SEED",
    "BenchReport",
    "CheckReport",
    "CheckpointError",
    "ClaimResult",
    "DataError",
    "Derivative",
    "FormulaSyntaxError",
    "GradcheckError",
    "GradcheckReport",
    "IndexnetError",
    "InternalError",
    "InvalidArgumentError",
    "MemoryLimitError",
    "Network",
    "NonFiniteError",
    "NotSupportedError",
    "OperandCountError",
    "Plan",
    "Program",
    "ProgramError",
    "ProgramSizeError",
    "ProgramSyntaxError",
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
    "vjp",
]
