"""Errors that say what, where, what was expected and what came.

Every input problem is reported with the file, the row (1-based, counting the header as row 1,
as a spreadsheet shows it), the profile, the field and the offending value, e.g.::

    horizons.csv row 17 (profile P12), field 'bottom': expected bottom > top (30 cm), got 20
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


class WholesoilError(Exception):
    """Base class of wholesoil's own errors."""


class InputDataError(WholesoilError, ValueError):
    """Bad input data, located precisely.

    Parameters
    ----------
    message : str
        What is wrong, e.g. ``"expected a number"``.
    file : str, optional
        File the data came from.
    row : int, optional
        Row as a spreadsheet shows it (header = row 1, first data row = row 2).
    profile : str, optional
        Profile identifier.
    field : str, optional
        Column name as it appears in the file.
    value : Any, optional
        The offending value.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        profile: Any = None,
        field: str | None = None,
        value: Any = None,
        has_value: bool | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.profile = profile
        self.field = field
        self.value = value
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if profile is not None:
            where.append(f"(profile {profile})")
        loc = " ".join(where)
        if field is not None:
            loc = f"{loc}, field {field!r}" if loc else f"field {field!r}"
        show_value = has_value if has_value is not None else value is not None
        self.has_value = show_value
        text = f"{loc}: {message}" if loc else message
        if show_value:
            text = f"{text}, got {value!r}"
        super().__init__(text)


    def in_user_names(self, names: Mapping[str, str]) -> InputDataError:
        """The same error with canonical column names replaced by the user's (``names``)."""
        return type(self)(
            translate_names(self.reason, names),
            file=self.file,
            row=self.row,
            profile=self.profile,
            field=None if self.field is None else names.get(self.field, self.field),
            value=self.value,
            has_value=self.has_value,
        )


def translate_names(text: str, names: Mapping[str, str]) -> str:
    """Replace whole-word canonical names in ``text`` by the user's names (one pass).

    ``source_row``, the internal row column, becomes ``row``.
    """
    names = {"source_row": "row", **{k: v for k, v in names.items() if k != v}}
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(names, key=len,
                         reverse=True))) + r")(?![\w])")
    return pattern.sub(lambda m: names[m.group(1)], text)


@contextmanager
def user_names(names: Mapping[str, str] | None) -> Iterator[None]:
    """Errors raised inside name the user's columns (``{canonical: user's name}``) and rows."""
    try:
        yield
    except InputDataError as exc:
        if not names and "source_row" not in str(exc):
            raise
        raise exc.in_user_names(names or {}) from exc


class MissingColumnError(InputDataError):
    """A required column is absent from a table."""


class OptionalDependencyError(WholesoilError, ImportError):
    """An optional extra (e.g. ``pip install 'wholesoil[ml-extra]'`` for Cubist) is not installed.

    The message names the package, what needs it and the command that installs it.
    """
