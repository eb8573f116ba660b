"""Write ``docs/cli.md``: every ``wholesoil`` command with its arguments and options.

Read from the typer application itself (``wholesoil.cli.app``, the package
``src/wholesoil/cli/``, one module per command group), so the page lists exactly the commands and
options the installed version has, with the --format and --model choices of the reader and model
registries. Run ``python docs/_gen/cli.py [OUT]``; the
MkDocs hook runs it before every build.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _text(s: str | None) -> str:
    """Help text without rich escapes, safe in a Markdown table cell."""
    s = (s or "").replace("\\[", "[").replace("[/]", "")
    s = " ".join(s.split())
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _default(p: Any) -> str:
    d = p.default
    if getattr(p, "is_flag", False) and getattr(p, "secondary_opts", None):
        return f"`{p.opts[0] if d else p.secondary_opts[0]}`"
    if d is None or d == () or callable(d):
        return ""
    if isinstance(d, list | tuple):
        d = ",".join(map(str, d))
    return f"`{d}`"


def _split_help(text: str) -> tuple[list[str], list[str]]:
    """Paragraphs of a command's help, and its example lines ("Example(s):" blocks)."""
    paras: list[str] = []
    examples: list[str] = []
    in_example = False
    cur: list[str] = []
    for ln in [*text.strip().splitlines(), ""]:
        head = ln.strip()
        if head.startswith(("Example:", "Examples:")):
            if cur:
                paras.append(" ".join(cur))
                cur = []
            in_example = True
            rest = head.split(":", 1)[1].strip()
            if rest:
                examples.append(rest)
            continue
        if in_example:
            if head:
                # continuation lines keep their indentation relative to the command
                examples.append(("    " if examples and examples[-1].endswith("\\") else "")
                                + head)
            elif examples and not ln.startswith(" ") and cur:
                in_example = False
            continue
        if head:
            cur.append(head)
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    return [p.replace("``", "`") for p in paras], examples


def _command(name: str, cmd: Any, level: int) -> list[str]:
    out = [f"{'#' * level} `{name}`", ""]
    paras, examples = _split_help(cmd.help or "")
    out += [p + "\n" for p in paras]
    if examples:
        out += ["```bash", *examples, "```", ""]
    subcommands = getattr(cmd, "commands", None)
    if subcommands:
        for sub_name, sub in subcommands.items():
            out += _command(f"{name} {sub_name}", sub, level + 1)
        return out
    args = [p for p in cmd.params if p.param_type_name == "argument"]
    opts = [p for p in cmd.params if p.param_type_name == "option" and not p.hidden
            and not _shared_input_option(name, p)]
    usage = " ".join([f"wholesoil {name}", *(a.name.upper() + ("…" if a.nargs == -1 else "")
                                             for a in args), "[OPTIONS]"])
    out += ["```text", usage, "```", ""]
    rows = []
    for a in args:
        rows.append(f"| `{a.name.upper()}` | {'yes' if a.required else ''} | "
                    f"{_default(a)} | {_text(getattr(a, 'help', ''))} |")
    for o in opts:
        names = ", ".join(f"`{n}`" for n in [*o.opts, *o.secondary_opts])
        rows.append(f"| {names} | {'yes' if o.required else ''} | {_default(o)} | "
                    f"{_text(o.help)} |")
    if rows:
        out += ["| argument / option | required | default | meaning |", "|---|---|---|---|",
                *rows, ""]
    shared = [p.opts[0] for p in cmd.params if _shared_input_option(name, p)]
    if shared:
        out += ["[Input options](#input-options): " + ", ".join(f"`{o}`" for o in shared)
                + ".", ""]
    return out


def _shared_input_option(command: str, p: Any) -> bool:
    """An input option with its shared meaning (described once, under Input options)."""
    from wholesoil.cli._common import INPUT_OPTIONS, INPUT_PANEL

    return (getattr(p, "rich_help_panel", None) == INPUT_PANEL and p.opts[0] in INPUT_OPTIONS
            and (p.help or "") == _shared_help(p.opts[0]))


def _shared_help(option: str) -> str:
    from rich.markup import escape

    from wholesoil.cli._common import INPUT_OPTIONS, registry_help

    return escape(registry_help(INPUT_OPTIONS[option]))


def _input_options() -> list[str]:
    """The one description of the input options: meaning, commands, accepted units."""
    from wholesoil.cli._common import (
        INPUT_OPTIONS,
        OPTION_TABLES,
        TABLE_COMMANDS,
        registry_help,
    )
    from wholesoil.io._headers import COLUMN_UNITS
    from wholesoil.io._table import UNIT_CONVERSIONS

    out = ["## Input options", "",
           "Every command that reads your table takes the same input options with the same "
           "meaning; each command's page lists which it takes. The options rename your columns "
           "to wholesoil's names as the table is read (other options then name a column by its "
           "new name), and `--units` converts to wholesoil's units there, nowhere else. A "
           "missing column stops the command with the file, the column and the option that "
           "maps it.", "",
           "| option | meaning |", "|---|---|"]
    out += [f"| `{o}` | {_text(registry_help(h))} |" for o, h in INPUT_OPTIONS.items()]
    out += ["", "| command | input options | why fewer |", "|---|---|---|"]
    for name, entry in TABLE_COMMANDS.items():
        out.append(f"| `{name}` | " + ", ".join(f"`{o}`" for o in entry.options)
                   + f" | {_text(entry.why)} |")
    for name, entry in OPTION_TABLES.items():
        out.append(f"| `{name} --{entry.argument}` | " + ", ".join(f"`{o}`" for o in
                                                                    entry.options)
                   + f" | {_text(entry.why)} |")
    out += ["", "`--units COL=UNIT` converts these columns (COL is your name or wholesoil's) "
            "to wholesoil's unit:", "", "| column | unit | accepted units |", "|---|---|---|"]
    for col, units in UNIT_CONVERSIONS.items():
        out.append(f"| `{col}` | {COLUMN_UNITS.get(col, '')} | "
                   + ", ".join(f"`{u}`" for u in units) + " |")
    return [*out, ""]


def render() -> str:
    import typer

    from wholesoil.cli import app
    from wholesoil.io._registry import reader_names

    sources = "|".join(n for n in reader_names() if n != "table")

    root = typer.main.get_command(app)
    out = [
        "# Command line",
        "",
        "Every `wholesoil` command with its arguments and options, read from the installed "
        "command itself (`docs/_gen/cli.py`). `wholesoil COMMAND --help` prints the same. "
        "Every command writes its outputs atomically, stops at bad input with a one-line "
        "message naming the file, row, field and value (exit status 2), and records what it "
        "did in `run.json` where it writes a folder.",
        "",
        "Common to the commands that read a layer table: the input is a CSV or Parquet table, "
        "read with the [input options](#input-options), or, with "
        f"`--format {sources}`, a source read by its reader "
        "([WoSIS](howto/wosis.md), [ISRaD](howto/israd.md)).",
        "",
    ]
    out += _input_options()
    for name, cmd in root.commands.items():
        out += _command(name, cmd, 2)
    return "\n".join(out) + "\n"


def generate(out: Path | None = None) -> str:
    page = render()
    if out is not None and (not out.exists() or out.read_text(encoding="utf-8") != page):
        out.write_text(page, encoding="utf-8")
    return page


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE.parent / "cli.md"
    generate(out)
    print(f"cli -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
