"""The ``indexnet`` command line: one module per subcommand, :func:`main` in :mod:`.main`.

``main`` is the console script's entry point (``indexnet.cli:main``).
"""

from .main import main

__all__ = ["main"]
