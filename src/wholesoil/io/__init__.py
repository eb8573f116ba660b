"""wholesoil.io."""
