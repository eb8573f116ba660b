"""wholesoil.workflows."""
