"""The seed's network: its formulas as data, the network, data sets, training, checkpoints.

* :mod:`~indexnet.seednet.seed`: the seed's formulas (index notation, einsum, matrix form);
* :mod:`~indexnet.seednet.checkpoint`: checkpoint files, arrays and a validated header;
* :mod:`~indexnet.seednet.nn`: :class:`~indexnet.seednet.nn.Network`;
* :mod:`~indexnet.seednet.backends`: the network on torch, JAX or CuPy (``backend=``);
* :mod:`~indexnet.seednet.data`: digits, MNIST and synthetic data sets;
* :mod:`~indexnet.seednet.train`: minibatch SGD, history and plots;
* :mod:`~indexnet.seednet.distributed`: full-batch gradients and training on a Dask cluster.
"""
