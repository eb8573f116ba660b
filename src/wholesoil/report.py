"""The HTML report; it lives in :mod:`wholesoil.plots.report` (this name stays importable)."""

from wholesoil.plots.report import Report, external_references

__all__ = ["Report", "external_references"]
