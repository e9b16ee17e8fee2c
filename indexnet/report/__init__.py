"""The HTML report of a program (``indexnet report``): one self-contained page."""
