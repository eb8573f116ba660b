"""Griffe extension: ``#:`` comments above a module-level assignment become its docstring.

wholesoil documents its published parameter sets and constants the Sphinx way::

    #: Default rule of each check, and why.
    DEFAULT_RULES: dict[str, str] = {...}

Griffe reads only string literals after an assignment as attribute docstrings; this extension
reads the ``#:`` block above it (or a trailing ``#:`` on the same line) so that the API
reference shows those constants with their sources.
"""

from __future__ import annotations

from typing import Any

from griffe import Docstring, Extension


class CommentDocstrings(Extension):
    def on_attribute_instance(self, *, attr: Any, **kwargs: Any) -> None:
        if attr.docstring is not None or attr.lineno is None:
            return
        try:
            lines = attr.lines_collection[attr.filepath]
        except (KeyError, TypeError, AttributeError):
            return
        i = attr.lineno - 1  # 0-based index of the assignment's first line
        if not 0 <= i < len(lines):
            return
        block: list[str] = []
        j = i - 1
        while j >= 0 and lines[j].lstrip().startswith("#:"):
            block.insert(0, lines[j].lstrip()[2:].removeprefix(" "))
            j -= 1
        if not block and "#: " in lines[i]:
            block = [lines[i].split("#: ", 1)[1]]
        if block:
            attr.docstring = Docstring("\n".join(block).strip(), lineno=j + 2, parent=attr)
