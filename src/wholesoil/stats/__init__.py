"""wholesoil.stats."""
