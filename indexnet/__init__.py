"""indexnet."""
