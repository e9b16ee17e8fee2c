"""The derivatives of a program as a program: reverse mode, simplification, relettering.

Modules, in import order: :mod:`.simplify` (terms read as a person writes
them), :mod:`.reletter` (summed letters that keep one size), :mod:`.local`
(the derivative of each built-in function, one rule each) and :mod:`.reverse`
(one rule per IR node; ``derive``, ``augment``).
"""
