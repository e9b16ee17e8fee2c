"""The einsum engine: plain einsum strings, planned once and run as direct NumPy calls.

Knows nothing of the index language. Its modules, each importing only those
listed before it:

* :mod:`~indexnet.einsum.subscripts`: parse and check einsum strings;
* :mod:`~indexnet.einsum.kernels`: one contraction step compiled to one NumPy call;
* :mod:`~indexnet.einsum.memory`: memory limits, met exactly or refused;
* :mod:`~indexnet.einsum.compiled`: the immutable :class:`~indexnet.einsum.compiled.Plan`,
  built and cached for a named optimizer or an explicit path;
* :mod:`~indexnet.einsum.timing`: random operands, one call on any backend, timing rounds;
* :mod:`~indexnet.einsum.measured`: ``optimize="measured"`` and its disk cache;
* :mod:`~indexnet.einsum.plan`: the entry points :func:`~indexnet.einsum.plan.plan` and
  :func:`~indexnet.einsum.plan.contract`;
* :mod:`~indexnet.einsum.rule`: the einsum derivative rule (one operand's gradient as an
  einsum) and what turns its result into that gradient;
* :mod:`~indexnet.einsum.tape`: the compiled reverse pass of one plan's contraction tree;
* :mod:`~indexnet.einsum.backprop`: :func:`~indexnet.einsum.backprop.value_and_vjp` and
  :func:`~indexnet.einsum.backprop.value_and_grad`, the forward pass and every gradient by
  reverse accumulation, reusing the forward intermediates;
* :mod:`~indexnet.einsum.vjp`: :func:`~indexnet.einsum.vjp.vjp`, the gradients alone.
"""
