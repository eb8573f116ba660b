"""``python -m wholesoil.cli``."""

from wholesoil.cli import main

main()
