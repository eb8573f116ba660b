"""wholesoil.depth."""
