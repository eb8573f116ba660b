"""Pieces every command module shares: the error wrapper, argument parsers, result printing.

Commands live in the modules of :mod:`wholesoil.cli`, one per command group, each registering
itself on the app with ``register(app)``. Start-up: this module imports typer and nothing heavy;
rich, the progress console and wholesoil's errors are imported when a command runs or fails, and
a command imports its workflow inside its function.

Every error a user can cause ends as one line on stderr, ``error: <what, where, expected, got>``
and a non-zero exit status: wholesoil's own errors, missing or unreadable files and bad values
(:func:`_friendly`, status 2), and the command line's usage errors (a missing option, a bad
number: :class:`OneLineGroup`, click's status 2). ``WHOLESOIL_TRACEBACK=1`` in the environment
lets the full traceback through instead, for debugging.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer ≥ 0.2x carries its own copy of click
    from typer._click import exceptions as _cx
    from typer._click.core import Command
except ImportError:  # pragma: no cover - typer on the click package
    from click import Command
    from click import exceptions as _cx

if TYPE_CHECKING:
    from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])
_ABORTS: tuple[type[BaseException], ...] = tuple(
    {typer.Abort, *([_cx.Abort] if hasattr(_cx, "Abort") else [])})



def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a command turns into one line (bad input, files); anything else is a bug and
    keeps its traceback. ValueError covers the readers' parse errors (pandas, json) as well."""
    from wholesoil.errors import WholesoilError

    return (WholesoilError, OSError, ValueError, KeyError)


def __getattr__(name: str) -> Any:  # USER_ERRORS without importing wholesoil.errors at start-up
    if name == "USER_ERRORS":
        return _user_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Environment variable that lets tracebacks through (``WHOLESOIL_TRACEBACK=1``).
TRACEBACK_ENV = "WHOLESOIL_TRACEBACK"


class _ConsoleProxy:
    """``console.print(...)`` on the shared stderr console of :mod:`wholesoil.progress`."""

    def __getattr__(self, name: str) -> Any:
        from wholesoil.progress import get_console

        return getattr(get_console(), name)


console: Console = _ConsoleProxy()  # type: ignore[assignment]


def one_line(text: object) -> str:
    """Collapse whitespace (newlines included) so that a message prints as one line."""
    return " ".join(str(text).split())


def error_line(message: object) -> None:
    """Print ``error: <message>`` as one line on stderr (red on a terminal) and log it."""
    from rich.markup import escape

    from wholesoil.progress import get_console, log_event

    text = one_line(message)
    log_event("error", text)
    get_console().print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)


def _describe(exc: BaseException) -> str:
    from wholesoil.errors import WholesoilError

    if isinstance(exc, KeyError) and not isinstance(exc, WholesoilError):
        return f"missing key {exc}"
    text = one_line(exc)
    if isinstance(exc, WholesoilError):
        return text
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return text or type(exc).__name__


def _table_argument(fn: Callable[..., Any], kwargs: dict[str, Any]) -> str | None:
    """The name of the first table file among a command's arguments (for messages)."""
    for name in inspect.signature(fn).parameters:
        value = kwargs.get(name)
        if isinstance(value, os.PathLike) and os.path.isfile(value):
            return os.path.basename(value)
    return None


def _next_step(exc: BaseException, fn: Callable[..., Any], kwargs: dict[str, Any]) -> str:
    """What to do about a missing column, for a command that takes the input options: the
    file (when the message lacks it), the option that maps the column, and where the options
    are described. Empty for other errors and for messages that already name an option."""
    from wholesoil.errors import MissingColumnError

    if not isinstance(exc, MissingColumnError) or "column_map" not in kwargs:
        return ""
    text = str(exc)
    if "--column-map" in text or "--id-column" in text:
        return ""
    column = exc.field or "COLUMN"
    file = "" if exc.file else _table_argument(fn, kwargs)
    where = f" in {file}" if file else ""
    return (f"; next step: if your table{where} has this column under another name, read it "
            f"with --column-map YOUR_NAME={column} (see Input options in --help)")


def _friendly(fn: F) -> F:
    """Turn bad-input errors (see :data:`USER_ERRORS`) into one line and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from wholesoil._outputs import guarding_inputs

        try:
            with guarding_inputs():  # no command replaces a file it reads
                return fn(*args, **kwargs)
        except _cx.ClickException:
            raise  # typer.BadParameter and friends: OneLineGroup prints them
        except _user_errors() as exc:
            if os.environ.get(TRACEBACK_ENV):
                raise
            error_line(_describe(exc) + _next_step(exc, fn, kwargs))
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


def _floats(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"{name} must be comma-separated numbers, got {text!r}") from exc


def _pairs(text: str | None, option: str) -> dict[str, str]:
    if not text:
        return {}
    out = {}
    for pair in text.split(","):
        if "=" not in pair:
            raise typer.BadParameter(f"{option} needs KEY=VALUE pairs, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _report(result: Any) -> None:
    """Print a job's messages and what it wrote (nothing when quiet; always to the JSON log)."""
    from wholesoil.progress import note

    for msg in result.messages:
        note(str(msg), stage="message")
    for what, path in result.outputs.items():
        note(f"wrote {what}: {path}", stage="output")


def usage_line(exc: _cx.ClickException) -> str:
    """A click usage error as one line, pointing at the command's ``--help``."""
    msg = one_line(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        msg = f"{msg} (see '{ctx.command_path} {ctx.help_option_names[0]}')"
    return msg


def _names(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


#: Placeholder help of every --format option: replaced by :func:`registry_help` with the readers
#: registered in :mod:`wholesoil.io._registry` when the command line is built.
FORMAT_HELP = "{registry:readers}"


def model_help(command: str) -> str:
    """Placeholder help of a --model option: the registered models that support ``command``."""
    return "{registry:models:" + command + "}"


def registry_help(text: str) -> str:
    """The help of a registry placeholder (:data:`FORMAT_HELP`, :func:`model_help`); any other
    text unchanged. Read at each build of the command line, so registered readers and models
    appear in ``--help``."""
    if text == FORMAT_HELP:
        from wholesoil.io._registry import format_help

        return format_help()
    if text.startswith("{registry:models:") and text.endswith("}"):
        from wholesoil.models._registry import model_help as _model_help

        return _model_help(text[len("{registry:models:"):-1])
    return text


class LazyHelpCommand(TyperCommand):
    """A command whose help ends with text computed only when the help is read.

    ``help_suffix`` (a class attribute, a function returning text) is called on each read of
    :attr:`help`; the command line builds without calling it, so a registry that imports heavy
    modules (``wholesoil reproduce``'s) is loaded only for that command's ``--help`` or the docs.
    """

    help_suffix: Callable[[], str] = staticmethod(lambda: "")

    @property  # type: ignore[override]
    def help(self) -> str | None:
        base = self.__dict__.get("_base_help")
        return None if base is None else base + type(self).help_suffix()

    @help.setter
    def help(self, value: str | None) -> None:
        self.__dict__["_base_help"] = value


def _escape_help(cmd: Command) -> None:
    """Escape rich markup in help texts so that units in brackets ([cm], [g/kg]) are shown."""
    if getattr(cmd, "_wholesoil_escaped", False):
        return
    from rich.markup import escape

    cmd._wholesoil_escaped = True  # type: ignore[attr-defined]
    text = cmd.__dict__.get("_base_help") if isinstance(cmd, LazyHelpCommand) else cmd.help
    if text:
        if not cmd.short_help:  # the listing shows the first paragraph, joined into one line
            cmd.short_help = one_line(inspect.cleandoc(text).split("\n\n")[0])
        cmd.help = escape(text)
    if cmd.short_help:
        cmd.short_help = escape(cmd.short_help)
    for p in cmd.params:
        text = getattr(p, "help", None)
        if text:
            p.help = escape(registry_help(text))  # type: ignore[attr-defined]
    for sub in getattr(cmd, "commands", {}).values():
        _escape_help(sub)


class OneLineGroup(TyperGroup):
    """The ``wholesoil`` group: help shows brackets as written, errors are one line.

    Typer prints a usage error as a boxed panel under the usage line; here it is one line,
    ``error: Missing option '--out'. (see 'wholesoil train --help')``, with click's exit status
    (2), and ``--help`` of every command and group still renders with rich.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _escape_help(self)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _cx.NoArgsIsHelpError as exc:
            exc.ctx.get_help()  # typer prints the help itself
            sys.exit(exc.exit_code)
        except _cx.ClickException as exc:
            error_line(usage_line(exc))
            sys.exit(exc.exit_code)
        except _ABORTS:
            error_line("aborted")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def _scheduler_option() -> Any:
    """The one ``--scheduler`` option of every command that runs in parallel."""
    from typing import Annotated

    from wholesoil.parallel import SCHEDULER_HELP

    return Annotated[str | None, typer.Option("--scheduler", help=SCHEDULER_HELP)]


#: ``--scheduler`` (:data:`wholesoil.parallel.SCHEDULER_HELP`); None means the default, threads.
SchedulerOpt = _scheduler_option()


# ----------------------------------------------------------------------------- input options
#: The help panel of the input options in ``--help`` (and the heading of their one description
#: in docs/cli.md, written from :data:`INPUT_OPTIONS` by docs/_gen/cli.py).
INPUT_PANEL = "Input options"

#: The phrase by which a command's table argument refers to the one description.
INPUT_REF = "Your column names and units: see Input options."

#: Every input option, its meaning (the ``--help`` text), in the order ``--help`` lists them.
INPUT_OPTIONS: dict[str, str] = {
    "--id-column": "Your profile id column (read as profile_id).",
    "--top-column": "Your top depth column (read as top) [cm].",
    "--bottom-column": "Your bottom depth column (read as bottom) [cm].",
    "--column-map": "Read your other columns under wholesoil's names: SRC=canonical,… "
                    "(e.g. OC_gkg=soc); other options then name them by the new name.",
    "--units": "Units of your columns, converted on reading: COL=UNIT,… (e.g. soc=%, "
               "top=m; COL is your name or the canonical one). Accepted units: "
               "docs/cli.md, Input options.",
    "--format": FORMAT_HELP,
    "--canonical-names": "Write wholesoil's names (profile_id, top, bottom, …) in the output "
                         "instead of your table's.",
}


class TableCommand(typing.NamedTuple):
    """A command that reads a user's table: the argument naming it, the input options it
    takes and, when it takes fewer than all of :data:`INPUT_OPTIONS`, why."""

    argument: str
    options: tuple[str, ...]
    why: str = ""


_ALL = tuple(INPUT_OPTIONS)
_READ = tuple(o for o in _ALL if o != "--canonical-names")
_FLAT = ("--column-map", "--units")

#: Every command whose table argument reads a user's table, by command path. The test
#: ``tests/cli/test_input_options.py`` checks this against the command line: a command with a
#: table argument that is not listed here fails it, as does a listed one lacking an option.
TABLE_COMMANDS: dict[str, TableCommand] = {
    "qc": TableCommand("horizons", _ALL),
    "harmonize": TableCommand("horizons", _ALL),
    "density": TableCommand("horizons", _ALL),
    "beta": TableCommand("layers", _ALL),
    "inputs": TableCommand("profiles", _READ, "no --canonical-names: its standard-layer "
                           "tables are wholesoil's, under wholesoil's names"),
    "assimilate": TableCommand("profiles", _READ, "no --canonical-names: writes calibrations "
                               "under wholesoil's names"),
    "proda e2e": TableCommand("profiles", _READ, "no --canonical-names: writes a network and "
                              "fits under wholesoil's names"),
    "c14 profile": TableCommand("israd_dir", _READ, "no --canonical-names: writes ages under "
                                "wholesoil's names; --format is israd (default) or table, to "
                                "which the other input options apply"),
    "train": TableCommand("table", ("--id-column", "--top-column", "--bottom-column",
                                    *_FLAT),
                          "a training table, one row per sample: no --format (CSV/Parquet "
                          "only); no --canonical-names (the model keeps the names as read); "
                          "--id-column is --groups"),
    "predict": TableCommand("covariates", _FLAT, "a covariate table has no profile keys "
                            "(the model's features name its columns) and writes predictions"),
    "mixed": TableCommand("table", _FLAT, "a table of observations, no profile keys"),
    "anova": TableCommand("table", _FLAT, "a table of observations, no profile keys"),
}

#: Commands that read a user's table through an option rather than their argument; the
#: ``argument`` field names the option's parameter.
OPTION_TABLES: dict[str, TableCommand] = {
    "simulate": TableCommand("sites", _FLAT, "a table of sites (mat, map, lat, sand), no "
                             "profile keys; it writes wholesoil's own tables"),
}

#: Arguments that read a table but are no user's layer table, with the reason (the test checks
#: that every table argument of the command line is in TABLE_COMMANDS or here).
OTHER_TABLES: dict[str, str] = {
    "proda train": "reads `wholesoil assimilate`'s own output and a covariate table keyed by "
                   "its profile_id",
    "proda e2e covariates": "a second table keyed by the first one's profile_id",
}


def _input_option(name: str, *decls: str) -> Any:
    return typer.Option(*(decls or (name,)), help=INPUT_OPTIONS[name],
                        rich_help_panel=INPUT_PANEL)


IdColumnOpt = typing.Annotated[str, _input_option("--id-column")]
TopColumnOpt = typing.Annotated[str, _input_option("--top-column")]
BottomColumnOpt = typing.Annotated[str, _input_option("--bottom-column")]
ColumnMapOpt = typing.Annotated[str | None, _input_option("--column-map")]
UnitsOpt = typing.Annotated[str | None, _input_option("--units")]
#: The --format help is written from the reader registry (:mod:`wholesoil.io._registry`) each
#: time the command line is built (see :func:`registry_help`).
FormatOpt = typing.Annotated[str, _input_option("--format")]
CanonicalNamesOpt = typing.Annotated[bool, _input_option("--canonical-names")]


def read_options(
    *,
    id_column: str = "profile_id",
    top_column: str = "top",
    bottom_column: str = "bottom",
    column_map: str | None = None,
    units: str | None = None,
    fmt: str | None = "table",
) -> dict[str, Any]:
    """The input options as the readers' keywords (:func:`wholesoil.workflows.load_horizons`,
    :func:`wholesoil.workflows._read.read_layer_table`); ``fmt=None`` leaves ``format`` out."""
    out: dict[str, Any] = {
        "id_column": id_column,
        "top_column": top_column,
        "bottom_column": bottom_column,
        "column_map": _pairs(column_map, "--column-map"),
        "units": _pairs(units, "--units"),
    }
    if fmt is not None:
        out["format"] = fmt
    return out


def flat_read_options(column_map: str | None, units: str | None) -> dict[str, Any]:
    """``--column-map`` and ``--units`` as the flat reader's keywords
    (:func:`wholesoil.workflows._read.read_any_table`)."""
    return {"column_map": _pairs(column_map, "--column-map"), "units": _pairs(units, "--units")}


def write_options(canonical_names: bool) -> dict[str, Any]:
    """``--canonical-names`` as the profile jobs' keyword (left out when not given)."""
    return {"canonical_names": True} if canonical_names else {}
