"""Evaluation: a lowered program and its input arrays in, every defined tensor out.

:class:`~indexnet.evaluate.execute.Compiled` plans every einsum once per set
of sizes (through :mod:`indexnet.einsum`) and then only runs NumPy calls;
:mod:`~indexnet.evaluate.domains` draws random inputs from declared domains.
"""
