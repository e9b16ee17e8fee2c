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
        'twice) when the program, which reads dL/dW, is evaluated. Fixed: renaming two '
        'letters of an elementwise call to one takes its diagonal (the output keeps m once); '
        "softmax's index or inv's rows and columns are never merged (the delta stays)",
        failing=False,
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
        "axis in transpose'. Fixed with the entry above: the argument's sum keeps m once",
        failing=False,
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
        'indices a, b unknown). Fixed: a letter that cancels leaves the size of the axis it '
        "names (x's own p, n), not its made-up name",
        failing=False,
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
        "rounding; check failed the exact derivative written as a claim (relative error 1.0): "
        'derive printed softmax[n](W_n U_i c^i) softmax[k](W_k U_i c^i), whose i the language '
        'reads as one sum outside both calls (it occurs elsewhere in the term). Fixed: a '
        'letter summed inside a call or parenthesis that the term uses elsewhere is renamed; '
        "and a claim ~0 by cancellation is judged against a noise floor (1e-6 of its terms' size)",
        failing=False,
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
    # -- found this session with the full strategy (no narrowing), each fixed --------------
    Entry(
        'claim_size_of_a_letter_no_tensor_holds',
        'check',
        """\
param W^{pi}
size i=3, m=3, p=1
L = |m| sum_{pi} W_{pi}
""",
        "the exact derivative written as a claim, dL/dW^{pi} = |m|, failed (1.333 x the "
        "derivative): check sized the claim's m, which no tensor of the claim holds, by a "
        "default (4) instead of the program's 3. Fixed: such letters take the program's size",
        failing=False,
    ),
    Entry(
        'claim_eye_alone_sized_by_default',
        'check',
        """\
param W
size i=2, n=2
L = -sum_i W · eye_{in} - W
""",
        "claim dL/dW = -sum_i eye^i_i - 1 failed ('extra term: -1'): the claim's i, held "
        "only by a Kronecker delta, got a default size (same fix as above)",
        failing=False,
    ),
    Entry(
        'eye_letter_invented_unsized',
        'check',
        """\
param W_k
size k=3, m=3
a = tanh(sum_k W^k)
L = a ⊙ eye^k_m
""",
        "derive gave dL/dW_k = ... sum_b eye^b_b ...: inlining dL/da renamed the delta's "
        "letters to one derive made up, whose size no tensor gives (the claim was 4/3 of the "
        "derivative). Fixed: before derivation a delta that only sums itself is written as "
        "the size it counts (|k|), in the program's own letters",
        failing=False,
    ),
    Entry(
        'program_size_renamed_as_an_atom_letter',
        'check',
        """\
param c_n
size j=2, n=3
yhat_n = softmax[n](c^n)
L = 1/|j| sum_n yhat^n^2
""",
        "derive wrote 1/|n| for the program's own 1/|j| in one term of dL/dc_n: "
        "substituting dL/dyhat^j (softmax's fresh j) renamed every size |j| to yhat's own "
        "|n|. Fixed: only the sizes the substitution itself leaves are renamed",
        failing=False,
    ),
    Entry(
        'softmax_over_an_index_its_argument_lacks',
        'check',
        """\
param u
size j=3, p=3
yhat^p = softmax[p](sum_j eye_{jp} u)
L = sum_p yhat_p^2
""",
        "sum_j eye_{jp} leaves the argument constant along p; derive's softmax rule then "
        "gave softmax[l](...) over a letter l no tensor sizes (SizeMismatchError, or an "
        "unknown size). Fixed: before derivation such a softmax is 1/|p|",
        failing=False,
    ),
    Entry(
        'multiplied_out_parenthesis_leaves_unsized_letter',
        'evaluate',
        """\
param W^m
param V
input x^{in}_j
param U
param c_n : positive
size i=3, j=3, k=3, m=1, n=1, p=1
a_m = sum_n W_m ⊙ V · x_{inj} + U
z^{kj}_n = (c^n + sum_m c_m^{0.5}) · identity'(U^3) c^p
q^{kpj} = zᵀ^{mij} * x^{in}_k a_n + 0.5
L = sum_{kpj} q^{kpj}^2
gamma^n = dL/dc_n
""",
        "multiplying out (c^a + sum_m c_m^{0.5}) in derive's tidy step left |a|, the size of "
        "a made-up letter: 'the size of index a is unknown' when the program (it reads "
        "dL/dc) is evaluated. Fixed: the size is that of the axis a names (c's n)",
        failing=False,
    ),
    Entry(
        'inner_sums_print_apart',
        'check',
        """\
param g^j, W^h
size h=3, j=2
L = tanh(W^h W^h g^j)
""",
        "derive printed dL/dg^j = tanh'(g^j W^h W^h) (W^h W^h): the language reads h, which "
        "occurs in both, as one sum outside the call and the parenthesis (rule 3). Fixed: "
        "now tanh'(g^j W^h W^h) (W^a W^a)",
        failing=False,
    ),
    Entry(
        'zero_by_cancellation_through_softmax',
        'check',
        """\
param V^j_n
input x_i
size i=3, j=3, k=2, p=3, n=1
z_{ikp} = 1e-1 softmax[i](0.1 sum_{jn} V^j_n x^i)
L = -sum_{ikp} z^i_{kp}
""",
        "dL/dV is 0 (sum_i softmax = 1), computed as a difference of equal terms: claim 0 "
        "against exact 1.4e-17 was relative error 1.0. Fixed: errors below 1e-6 of the size "
        "of the terms (sum of |term|) are rounding, not a failure",
        failing=False,
    ),
    Entry(
        'kink_in_an_equation_after_L',
        'check',
        """\
param W
input t
L = W identity'(t)
delta = abs(dL/dt)
""",
        "dL/dt is 0, so abs(dL/dt) sits at its kink; check reported every claim 'not "
        "differentiable at the sampled points' though no claim's scalar reads delta. Fixed: "
        "only the equations the differentiated scalars need are searched for kinks",
        failing=False,
    ),
    Entry(
        'confirm_step_too_coarse_for_a_small_tensor',
        'check',
        """\
param W
param V
size i=1
a^i = 0.01 W V
z = a^i^4
L = tanh(z)
""",
        "a ~ 1e-2 and L ~ 1e-9: central differences with a step of 1e-6 of max(1, |a|) "
        "disagree with the exact dL/da by 1e-4, and check called it an indexnet defect. "
        "Fixed: the confirmation also tries a step relative to |a| (and a larger one)",
        failing=False,
    ),
    Entry(
        'oracle_differences_amplified_by_a_reader',
        'evaluate',
        """\
param W_i
param V^i
param U_j
param c_i
param g^i
param s_i
param b^i
input x_p : uniform(1, 2)
param W1
param W2
param W3
param W4
input t^j : positive
param W5^i_k : positive
param W6_i
input y_{mi} : onehot(i)
const mu = 1.5
size i=3, j=1, k=3, m=1, n=3, p=2
a = W^i * tanh(softmax[i](0.5 sum_k W^k V_i + sum_n W_i * V_n * W_i) \\
    + sum_p logsigmoid(sum_{jm} U_j · c_i U^m + V^i) (-g^i ⊙ s_i^2 - s^i) b^i / x^p) + W1
z = softplus(sum_{ik} c_i a g^k) - 1e-1 b^n (1/3 V_n · tanh(|k| a + sum_p W2 · x_p W3^3) \\
    / softplus(0.1 W3 · c_n) + (1e-1 W4 s_n^2 V^n + 2)) \\
    / (log'(2 mu sum_m t_j t_j t_m)^{-1} + 2)^{0.5}
q = x_p + loss(-2 mu sum_j t_j W3 z - 0.5, 1/3 sum_{ik} W5_{ik})^3
yhat_{mi} = softmax[i](0.1 sum_p x_p W6^i)
L = q^2 - sum_{mi} y^{mi} log(yhat^m_i)
delta_p = dL/dt^j * W_i^3 · dL/dW6_k
""",
        "not an indexnet bug: delta is ~0 (sum_k dL/dW6_k = 0) but the oracle's central "
        "differences carry rounding of about eps |L| / step, multiplied by dL/dt (3e4); the "
        "test now allows ten times the oracle's spread between two steps",
        failing=False,
    ),
    Entry(
        'term_key_nested_placeholders',
        'evaluate',
        """\
param W^{ik} : uniform(1, 2)
param V_n
size i=1, j=1, k=2, m=3, n=3, p=1
a^{pm}_n = 1e-1 log'(sum_{ik} W^{ik}^3 * softmax[n](0.1 sum_j Wᵀ^{kj} ⊙ V_n))
L = sum_{pmn} a^{pmn}^2
delta = dL/dW^{ik}
""",
        "regression: the key that merges like terms named the summed letters of an inner "
        "term by the same placeholders as the outer term's, so an inner summed letter could "
        "take the name of one of its free letters (two different terms then compare equal)",
        failing=False,
    ),
    Entry(
        'softmax_with_two_summed_letters_as_a_key',
        'check',
        """\
param V^m
input t_n
size m=3, n=2
a^{nm} = softmax[m](-t_n V^m - V^m · t_n)
L = -sum_{nm} a^{nm}^2
""",
        "regression: ordering the factors of a term by a key that names every summed letter "
        "'?' merged softmax's index with another letter (both summed)",
        failing=False,
    ),
    Entry(
        'two_deltas_sharing_a_letter',
        'derive',
        """\
param W
size i=3, j=3, m=3
L = W + W ⊙ eye^i_j eye_{mj}
""",
        "regression: writing deltas that only sum themselves as sizes took both "
        "eye^i_j and eye_{mj} for 1 (each beside the other's j), giving dL/dW = 2, not 1 + |j|",
        failing=False,
    ),
    Entry(
        'softmax_of_a_constant_under_a_power',
        'derive',
        """\
param x
param U_j
size i=3, j=1, k=3
a_i = softmax[i](sum_{jk} x U_j eye^k_i)^{0.5}
L = sum_i tanh(a_i)
""",
        "the softmax's argument is constant along i (sum_k eye^k_i = 1), and it stands under "
        "a power: derive's softmax rule made the derived program fail (SizeMismatchError, "
        "operand 'i' of shape (1,)). Fixed: before derivation it is (1/|i|)^{0.5}",
        failing=False,
    ),
    Entry(
        'lone_diagonal_delta_with_a_made_up_letter',
        'check',
        """\
param W
size i=3, j=3, k=3, n=3, p=3
a^{ip} = 0.5 W
z^{ik} = -square(sum_j W a^{jj} + sum_{np} a^{np}) eye_{ik}
L = sum_{ik} z^{ik}
""",
        "regression: derive printed eye^b_b, a delta summed alone over a letter it made up, "
        "which a claim sizes by a default. Fixed: letters made up while deriving have the "
        "size of the letter they stand for (a letter of the program of that size first), and "
        "eye^c_c summed alone is |c|",
        failing=False,
    ),
    Entry(
        'confirm_steps_in_each_entrys_own_units',
        'check',
        """\
param W_{kmp}
param V_i
param U_{kn}
param c_n
param g_j
param s_i : uniform(1, 2)
input y^{ki} : onehot(i)
const mu = 1.5
act f = tanh
size i=2, j=3, k=2, m=1, n=2, p=1
a^{kj}_n = 2 f(-0.5 sum_{mp} W_{mp}^k^3) \\
    - f(sum_i V^i) Uᵀ^{nk} softmax[n]((Uᵀ^n_k · c^n g_j^3 + 2) g_j^3)^{-1}
z^{mj} = sum_i s_i + 2 mu sum_k s_k * s_n / s^n
yhat^{ki} = softmax[i](0.1 sum_{mp} W_{nmp} · sigmoid(-U^{ni} V_n * s_n))
L = -sum_{kjn} tanh(a^{kj}_n) + sum_{mj} tanh(z^m_j) + sum_{ki} y^{ki} log(yhat^{ki})
""",
        "a holds 0.66 beside -4.1e56 (the reciprocal of a tiny softmax): a step of 1e-6 of "
        "the largest entry moves the small ones by 4e50, and check called the exact dL/da an "
        "indexnet defect. Fixed: the confirmation also steps each entry by 1e-6 of itself",
        failing=False,
    ),
    Entry(
        'oracle_rounding_hides_its_own_spread',
        'evaluate',
        """\
param W^i_k : uniform(1, 2)
param V
param U_k
input y^{jk} : onehot(k)
size i=3, j=1, k=3, m=2, n=3, p=1
a^{mi} = 1/3 sum_{kn} Wᵀ^{ki} · W^k_n · W^i_i^3
z = abs(-sum_{ik} Wᵀ^k_i)^2
q_p = z · z a^m_i
yhat^j_k = softmax[k](0.1 V U_k)
L = -sum_p q^p^2 - sum_{jk} loss(y^{jk}, yhat^{jk})
delta_{jk} = dL/dyhat^j_k
gamma = dL/dV
""",
        "not an indexnet bug: L is so large that moving yhat by the oracle's step does not "
        "change it, so its central differences give dL/dyhat = 0 at both steps (no spread); "
        "the test now allows at least ten times eps |L| / step, and sets aside programs "
        "that read dL/dX with |L| > 1e8 (this one: a skip)",
        failing=False,
    ),
    Entry(
        'rounding_residue_of_a_sum_that_cancels',
        'check',
        """\
param W : uniform(1, 2)
param V : uniform(1, 2)
param U^i : positive
param c_i
const lambda = 0.01
size i=2, j=2, m=2, n=3, p=3
a = (lambda/2 W + W) ⊙ (sum_i V U_i)
z^m_p = loss(sum_{ni} eye^{np} · c_i^3 - c^j ⊙ c^j^2, W^2) (1/|i| U_m^{-2} + a * U^m)
L = -sum_{mp} tanh(z_{mp})
""",
        "sum_{ni} eye^{np} c_i^3 - c^j c^j^2 is 0; derive simplifies it away (dL/da has "
        "loss(0, W^2)), but the computed z carries its rounding (1e-16), whose slope central "
        "differences see: check called dL/da, dL/dW, ... indexnet defects. Fixed: a derivative "
        "proved 0 agrees with a slope below 1e-12 of the program's largest value",
        failing=False,
    ),
    Entry(
        'softmax_of_an_argument_that_cancels',
        'derive',
        """\
param g^n
param c
size n=2
a_n = c softmax[n](g^n - g^n)^{0.5}
L = sum_n tanh(a_n)
""",
        "g^n - g^n simplifies to 0, which leaves softmax[n] an argument without n: the "
        "derived program failed (SizeMismatchError, operand 'n' of shape (1,)). Fixed: the "
        "simplifier writes a softmax of an argument constant along its index as 1/|n|",
        failing=False,
    ),
    Entry(
        'no_term_of_an_inner_sum_holds_every_letter',
        'check',
        """\
param W_{nj}
param V
input x^p : uniform(1, 2)
param U^i
param c
input t^i
param g
size i=1, j=2, k=1, m=1, n=3, p=1
a^{imn} = softplus'(sum_{kp} square(sum_j W^n_j) ⊙ V eye^{ki} / x_p \\
    + 1/|m| U^i relu(-c x_i U_i^2 + U^i * c t_i) x_i) * g^2
L = -sum_{imn} tanh(a_{imn})
""",
        "derive printed sigmoid'(... square(sum_b W^n_b) ... + ... U^i x_i): inside a call a "
        "term may lack letters of its sum only when another term has them all, so the claim "
        "did not parse back ('the terms of this sum disagree on their free indices'). Fixed: "
        "the term with the most letters takes eye^i_i (1 for every i) for those it lacks",
        failing=False,
    ),
    Entry(
        'no_argument_of_loss_holds_every_letter',
        'check',
        """\
param W^i
param U^{mn} : uniform(1, 2)
param g_i
size i=2, k=2, m=2, n=3, p=2
a^{mi} = loss(sum_{kp} eye^k_{mp} W^i + 2, 3/2 sum_n U_{mn}) g_i
L = -sum_{mi} a_{mi}^2
""",
        "sum_{kp} eye^k_{mp} is 1 for every m, which leaves loss's first argument without m "
        "and its second without i: derive printed loss(W^i + 2, ...), which does not parse "
        "back ('the arguments of loss disagree on their free indices'). Fixed: the argument "
        "with the most letters takes eye^m_m for those it lacks",
        failing=False,
    ),
    Entry(
        'saturated_tanh_below_rounding',
        'check',
        """\
param W^{ik} : uniform(1, 2)
param V_k : positive
input x^m_i
input t
input u
const lambda = 0.01
const mu = 1.5
size i=2, j=3, k=2, m=2, n=3, p=2
a = W^{ik} · V^k / V_i
z^m = lambda/2 (sum_{jni} eye^{jn} ⊙ x^{mi} + sum_k Wᵀ^k_m t) \\
    · square(|k| sum_p Wᵀ^{mp} ⊙ a + 1) - 2 mu (t^3 · a^{0.5} + u)
L = sum_m tanh(z_m)
delta = 2 mu sum_k dL/dW_{ik} square(1e-1 u)
""",
        "z = (20.5, -18.9): L = tanh(z_1) + tanh(z_2) is 1e-16 and does not move at all under "
        "a step of 1e-6, while the exact tanh'(z) is rounding (2e-16): check called dL/dz, "
        "dL/da, dL/dW, dL/dV indexnet defects. Fixed: a slope within the noise of central "
        "differences (their scatter over steps h, 2h, 4h, and at least 1e-15 of the largest "
        "value per unit step) agrees",
        failing=False,
    ),
    Entry(
        'log_of_an_intermediate_of_1e_9',
        'check',
        """\
param W_k
param V^i_k
param U_{ki}
param c^p : uniform(1, 2)
param g
input x
input t^p
const lambda = 0.01
act f = tanh
size i=3, j=3, k=1, m=3, n=1, p=2
a_{mkj} = identity'(sum_n W^k ⊙ W^n + 2 loss(-V_{ik} U^{ki}^3 U^{ki}, 1e-1 sum_p c^p) · g x)
z^p = softmax[p](sum_{ikj} a_j^{ik}^{-2} t^p + 1) sqrt(c_p / c_p) \\
    / logsigmoid'(0.1 f(-lambda/2 sum_n W^n + g^3) ⊙ c^p)
L = sum_p log(z^p)
""",
        "z holds 1e-9 beside 1.8: a step of 1e-6 takes log(z) past 0 (relative error inf), and "
        "the steps in each entry's own units floored the scale at 1e-3. Fixed: each entry is "
        "stepped by 1e-6 of itself (1 where it is 0)",
        failing=False,
    ),
    Entry(
        'shared_denominator_sums_inside',
        'check',
        """\
param W_{jk} : uniform(1, 2)
param u^j : uniform(1, 2)
size j=2, k=3
L = sum_k (u^j / W_{jk})^{0.5}
""",
        "derive wrote dL/du^j (einsum k,jk->j, right) as 1 / (2 (u^b / W_{bk})^{1/2} W_{jk}): "
        "by rule 3 the parentheses sum k inside, so check read the printed derivative as "
        "another formula and failed it (found by the check property, seed 672825). Fixed: "
        "divisors that share a letter summed outside are not put under one bar",
        failing=False,
    ),
]
