"""indexnet: tensor-index notation as planned einsum formulas.

>>> import numpy as np, indexnet
>>> x, w = np.ones((4, 3)), np.ones((3, 2))
>>> indexnet.contract("nd,dh->nh", x, w).shape
(4, 2)
>>> str(indexnet.derivative("nd,dh->nh", wrt=1))
'nd,nh->dh'
"""

from .check import CheckReport, ClaimResult
from .errors import (
    CheckpointError,
    DataError,
    FormulaSyntaxError,
    GradcheckError,
    IndexnetError,
    InvalidArgumentError,
    MemoryLimitError,
    NonFiniteError,
    OperandCountError,
    SizeMismatchError,
)
from .gradcheck import GradcheckReport, TensorCheck, gradcheck
from .nn import Network
from .notation.errors import (
    NotSupportedError,
    ProgramError,
    ProgramSizeError,
    ProgramSyntaxError,
    VarianceError,
)
from .pathbench import BenchReport, bench_paths
from .plan import Plan, Step, contract, plan
from .program import Program, parse
from .seed import SEED, SeedFormula
from .subscripts import Subscripts
from .subscripts import parse as parse_subscripts
from .vjp import Derivative, derivative, vjp

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
