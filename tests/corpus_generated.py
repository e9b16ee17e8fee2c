"""Minimal programs on which a property of ``tests/test_generated_programs.py`` failed.

Each entry names the property (``evaluate``, ``derive`` or ``check``), the
program (found by the generated-program properties, then shrunk by hand or by
a text minimiser), and what went wrong. ``failing`` entries fail on today's
code and run as strict expected failures: when a fix makes one pass, the test
errors ("XPASS(strict)"); then clear its ``failing`` flag, which keeps it as a
regression test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One minimal program, the property it breaks, and why."""

    name: str
    prop: str
    text: str
    reason: str
    failing: bool = True


CORPUS: list[Entry] = [
    Entry(
        'eye_rename_repeats_call_output',
        'evaluate',
        """\
param W_{mk}
param V^{mn}
size i=3, j=1, k=1, m=3, n=1
a_{mj} = eye^{mi} sigmoid(V^{mn} W^{ij})
L = aᵀ_{km}
delta_{mk} = dL/dW_{mk}
""",
        "derive renames through eye^{mi} and gives sigmoid'(V^{mn} W^{mk}) V^{mn} a call "
        "whose output repeats m: einsum 'mn,mk->mnmk' fails (output index 'm' occurs "
        'twice) when the program, which reads dL/dW, is evaluated',
    ),
    Entry(
        'eye_diagonal_repeated_axis',
        'evaluate',
        """\
input x_{im}
size i=3, m=1, n=3, p=1
a_{pnm} = x_{im} eye^p_m
L = tanh(a^{pn}_m)
delta_{im} = dL/dx^i_m
""",
        "the derivation dL/dx_{im} = sum_n tanh'(a^{mn}_m) reads a diagonal of a 3-axis "
        "tensor; evaluating the program (it reads dL/dx) raises InternalError 'repeated "
        "axis in transpose'",
    ),
    Entry(
        'broadcast_size_factor_wrong',
        'derive',
        """\
param W^{ki}_m : positive
param V_p : positive
param c^j : positive
param W1^m : positive
size i=2, j=3, k=3, m=3, n=3, p=2
a_j = sqrt(W^{mi}_n Wᵀ^{kpn} · V^p)
q^p_i = sqrt(W_{ik}^m ⊙ c_n / c^n · W1_m)
L = a_j + q_{pi}
""",
        "wrong derivative without a warning: derive's dL/dW holds |n| ... sqrt'(|b| "
        'W^a_{im} W1_a) (broadcast sizes placed wrongly); 3% off central differences; '
        'check reports an indexnet defect',
        failing=False,  # fixed this session: kept as a regression test
    ),
    Entry(
        'invented_letters_unsized',
        'derive',
        """\
param W^{ki}
param V
input x^{kpn}
size i=1, k=3, n=3, p=1
a_i = log'(V * xᵀ^{npk} / x^{kpn}) * Wᵀ_{ik}
L = a_i
""",
        'derive gives dL/dV = -|n| |p| sum_i Wᵀ_{ik} (|a| |b| V)^{-2}: |a|, |b| are sizes '
        'of letters derive invented; evaluating the derived program fails (size of '
        'indices a, b unknown)',
    ),
    Entry(
        'softmax_size_one_defect',
        'check',
        """\
param U_i
size i=1, j=1
yhat_{ji} = softmax[i](U_i)
L = yhatᵀ_{ii}
""",
        "check reports 'indexnet defect: the exact derivative failed its "
        "finite-difference check' at relative error 0 (softmax over an index of size 1, "
        'trace of yhat)',
        failing=False,  # fixed this session: kept as a regression test
    ),
    Entry(
        'softmax_loss_size_one_defect',
        'check',
        """\
param V^i
input y_i
size i=1
yhat_i = softmax[i](V_i)
L = loss(y^i, yhat_i)
""",
        'softmax with loss over an index of size 1: check flags the exact derivative '
        '(sum_a yhat_i y^a - y^i) as an indexnet defect at relative error 0',
        failing=False,  # fixed this session: kept as a regression test
    ),
    Entry(
        'constant_scalar_defect',
        'check',
        """\
param W^n
param U^i
param c^m
size k=3, m=3
L = softmax[k](U_m ⊙ W_k c^m)
""",
        'L = sum_k softmax[k](...) is the constant 1, so every derivative is 0 up to '
        "rounding; derive agrees with finite differences, but check's confirmation calls "
        'the exact derivative a defect (relative error 1.0 between numbers near 0)',
    ),
    Entry(
        'render_lone_reciprocal',
        'check',
        """\
param W^j
size j=1, m=3, p=1
a^{pm}_j = W^j
L = log(a^{pm}_j)
""",
        'the derivation dL/dW^j = sum_{pm} / a^{pm}_j renders a product with no numerator '
        "as 'sum_{pm} / a', which does not parse back ('expected a factor before /')",
        failing=False,  # fixed this session: kept as a regression test
    ),
]
