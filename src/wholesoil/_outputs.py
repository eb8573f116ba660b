"""Outputs that never destroy inputs, written all together or not at all.

Three guarantees, shared by every command:

1. **No output is an input.** Before anything is written, every output path (side files a
   command derives included, such as ``OUT.qc.csv`` or ``OUT.stocks.csv``) is compared with
   every input and with every other output, by resolved path and by device and inode (so a
   symbolic or hard link to an input is caught too). A clash is an :class:`OutputPathError`
   and nothing is written. Inside a command (:func:`guarding_inputs`), every file a reader
   opens is recorded, and :func:`wholesoil._atomic.atomic_path` refuses to replace one of them
   as a last line of defence for commands that write into a folder.
2. **All or nothing.** :class:`OutputSet` writes every output to a temporary file beside its
   target, then renames them onto the targets together; if a write or a rename fails, the
   targets already replaced get their previous content back (or are removed if they did not
   exist) and the temporaries are deleted.
3. **No stale temporaries.** Temporary names carry the process id,
   ``.NAME.<pid>.<random>.tmp``; a later write into the same folder removes those of processes
   that no longer run (left by ``kill -9`` or a power cut): the first write of a process into
   a folder sweeps the whole folder (:func:`sweep_folder`).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wholesoil.errors import WholesoilError

PathLike = str | os.PathLike[str]

#: ``.NAME.<pid>.<token>.tmp`` (temporaries) and ``.NAME.<pid>.<token>.bak`` (backups kept
#: while an :class:`OutputSet` renames, so that it can roll back).
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{8})\.(?:tmp|bak)$")


class OutputPathError(WholesoilError, ValueError):
    """An output path is an input, or two outputs are the same file."""


# ------------------------------------------------------------------ identity of files
def _identity(path: PathLike) -> tuple[Path, tuple[int, int] | None]:
    p = Path(path).expanduser()
    try:
        resolved = p.resolve(strict=False)
    except (OSError, RuntimeError):  # a symlink loop: compare the path as given
        resolved = p.absolute()
    try:
        st = os.stat(resolved)
        inode: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except OSError:
        inode = None
    return resolved, inode


def _same(a: tuple[Path, tuple[int, int] | None], b: tuple[Path, tuple[int, int] | None]) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def check_outputs(
    inputs: Iterable[PathLike | None], outputs: Mapping[str, PathLike]
) -> None:
    """Raise :class:`OutputPathError` if an output is an input or two outputs coincide.

    Parameters
    ----------
    inputs : iterable of path-like or None
        Files the command reads (``None`` entries are skipped). An input folder protects the
        folder itself, not the files in it.
    outputs : mapping of str to path-like
        Every file the command will write, by what it is (``"qc_report"``: ``out.qc.csv``).
    """
    ins = [(Path(p), _identity(p)) for p in inputs if p is not None]
    seen: list[tuple[str, Path, tuple[Path, tuple[int, int] | None]]] = []
    for what, out in outputs.items():
        ident = _identity(out)
        for path, other in ins:
            if _same(ident, other):
                raise OutputPathError(
                    f"output {what} {str(out)!r} is the input {str(path)!r}; writing it would "
                    "destroy the input: choose another output path (nothing was written)"
                )
        for other_what, other_path, other in seen:
            if _same(ident, other):
                raise OutputPathError(
                    f"outputs {other_what} and {what} are the same file {str(out)!r} "
                    f"(from {str(other_path)!r}); one would replace the other: choose "
                    "different paths (nothing was written)"
                )
        seen.append((what, Path(out), ident))


# ------------------------------------------------------------------ inputs of this command
_INPUTS: contextvars.ContextVar[list[tuple[Path, tuple[int, int] | None]] | None] = (
    contextvars.ContextVar("wholesoil_inputs", default=None)
)


@contextlib.contextmanager
def guarding_inputs() -> Iterator[None]:
    """Within this block, files recorded by :func:`note_input` cannot be overwritten.

    The command line opens one block per command; the Python API is unaffected outside one.
    """
    token = _INPUTS.set([])
    try:
        yield
    finally:
        _INPUTS.reset(token)


def note_input(path: PathLike) -> None:
    """Record that the running command reads ``path`` (no-op outside :func:`guarding_inputs`)."""
    noted = _INPUTS.get()
    if noted is not None:
        noted.append((Path(path), _identity(path)))


def refuse_if_input(target: PathLike) -> None:
    """Raise :class:`OutputPathError` if ``target`` is a file the running command reads."""
    noted = _INPUTS.get()
    if not noted:
        return
    ident = _identity(target)
    for path, other in noted:
        if _same(ident, other):
            raise OutputPathError(
                f"output {str(target)!r} is the input {str(path)!r}; writing it would destroy "
                "the input: choose another output path"
            )


# ------------------------------------------------------------------ temporaries
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def temp_name(target: Path, kind: str = "tmp") -> Path:
    """A fresh hidden name beside ``target`` that carries this process's id."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def clean_stale_temporaries(folder: PathLike, name: str | None = None) -> list[Path]:
    """Remove ``.NAME.<pid>.*.tmp`` / ``.bak`` files of processes that no longer run.

    Parameters
    ----------
    folder : path-like
        Folder to look in (nothing happens if it does not exist).
    name : str, optional
        Only temporaries of this target name; default all.

    Returns
    -------
    list of pathlib.Path
        The files removed. Backups (``.bak``) of a dead process are restored onto their
        target when the target is missing (the process died between two renames).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for e in entries:
        m = _TEMP_RE.match(e.name)
        if not m or (name is not None and m.group("name") != name):
            continue
        if _pid_alive(int(m.group("pid"))):
            continue
        p = Path(e.path)
        try:
            target = p.with_name(m.group("name"))
            if p.suffix == ".bak" and not target.exists():
                os.replace(p, target)  # a rename was cut short: put the old content back
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            continue
    return removed


_SWEPT: set[tuple[int, str]] = set()


def sweep_folder(folder: PathLike, name: str) -> None:
    """Before writing ``name`` into ``folder``: remove stale temporaries of dead processes.

    The whole folder is swept once per process (temporaries of any output a killed run was
    writing); later writes look only for temporaries of their own name.
    """
    key = (os.getpid(), os.path.abspath(folder))
    if key in _SWEPT:
        clean_stale_temporaries(folder, name)
    else:
        clean_stale_temporaries(folder)
        _SWEPT.add(key)


def describe_write_error(exc: OSError, target: PathLike) -> OSError:
    """An OSError about a temporary file, reworded to name the output it was for."""
    reason = exc.strerror or str(exc)
    parent = Path(target).parent
    if parent.exists() and not parent.is_dir():
        reason = f"{str(parent)!r} is a file, not a folder"
    return OSError(exc.errno, f"cannot write the output ({reason})", str(target))


def fsync_file(path: Path) -> None:
    """Flush a written file to disk (before a rename makes it visible)."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


# ------------------------------------------------------------------ all-or-nothing writes
Writer = Callable[[Path], object]


@dataclass
class OutputSet:
    """Outputs of one command, checked against its inputs and written all or nothing.

    Examples
    --------
    >>> outs = OutputSet(inputs=[src])  # doctest: +SKIP
    >>> outs.add("horizons", out, lambda p: df.to_csv(p, index=False))  # doctest: +SKIP
    >>> outs.add("qc_report", report, lambda p: rep.to_csv(p, index=False))  # doctest: +SKIP
    >>> written = outs.commit()  # doctest: +SKIP
    """

    inputs: list[PathLike | None] = field(default_factory=list)
    _items: list[tuple[str, Path, Writer]] = field(default_factory=list)

    def add(self, what: str, path: PathLike, writer: Writer) -> Path:
        """Plan to write ``path`` (called with a temporary path to write to)."""
        self._items.append((what, Path(path), writer))
        return Path(path)

    def check(self) -> None:
        """Refuse outputs that are inputs or coincide (:func:`check_outputs`)."""
        check_outputs(self.inputs, {w: p for w, p, _ in self._items})
        for _, p, _ in self._items:
            refuse_if_input(p)

    def commit(self) -> dict[str, Path]:
        """Check, write every output to a temporary, then rename them all; roll back on failure.

        Returns
        -------
        dict of str to pathlib.Path
            The outputs written, by what they are.
        """
        self.check()
        temps: list[tuple[str, Path, Path]] = []
        made: list[Path] = []  # folders created here, removed again if the commit fails
        ok = False
        try:
            for what, target, writer in self._items:
                try:
                    made += _make_parents(target.parent)
                    sweep_folder(target.parent, target.name)
                    tmp = temp_name(target)
                    temps.append((what, target, tmp))
                    writer(tmp)
                    fsync_file(tmp)
                    os.chmod(tmp, 0o666 & ~_umask())
                except OSError as exc:
                    raise describe_write_error(exc, target) from exc
            self._rename_all(temps)
            ok = True
        finally:
            for _, _, tmp in temps:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            if not ok:
                for folder in reversed(made):
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # only if still empty
        return {what: target for what, target, _ in self._items}

    @staticmethod
    def _rename_all(temps: list[tuple[str, Path, Path]]) -> None:
        done: list[tuple[Path, Path | None]] = []  # (target, backup or None if it was absent)
        try:
            for _, target, tmp in temps:
                backup = None
                if target.exists():
                    backup = temp_name(target, "bak")
                    try:
                        os.link(target, backup)
                    except OSError:  # no hard links here: keep a copy instead
                        import shutil

                        shutil.copy2(target, backup)
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    if backup is not None:
                        with contextlib.suppress(OSError):
                            backup.unlink()
                    raise describe_write_error(exc, target) from exc
                done.append((target, backup))
        except BaseException:
            for target, backup in reversed(done):
                with contextlib.suppress(OSError):
                    if backup is None:
                        target.unlink()
                    else:
                        os.replace(backup, target)
            raise
        finally:
            for _, backup in done:
                if backup is not None:
                    with contextlib.suppress(OSError):
                        backup.unlink()


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, outermost first."""
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _umask() -> int:
    from wholesoil._atomic import _UMASK

    return _UMASK
