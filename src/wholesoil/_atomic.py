"""Atomic output: write to a temporary name in the target folder, then rename."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    If the body raises, the temporary file is removed and ``path`` is left as it was
    (absent, or with its previous content): readers never see a half-written file. The
    temporary is named ``.NAME.<pid>.<random>.tmp``; those left by processes that no longer
    run (``kill -9``) are removed first (:func:`wholesoil._outputs.sweep_folder`).
    Inside a command, a file the command reads is never replaced
    (:func:`wholesoil._outputs.refuse_if_input`).
    """
    from wholesoil._outputs import (
        describe_write_error,
        fsync_file,
        refuse_if_input,
        sweep_folder,
        temp_name,
    )

    target = Path(path)
    refuse_if_input(target)
    tmp_path = temp_name(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_folder(target.parent, target.name)
        # O_EXCL: never follow a link planted under the temporary's name
        os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise describe_write_error(exc, target) from exc
    try:
        try:
            yield tmp_path
        except OSError as exc:  # name the output, not its temporary
            if exc.filename is not None and Path(exc.filename) == tmp_path:
                raise describe_write_error(exc, target) from exc
            raise
        try:
            fsync_file(tmp_path)  # flush to disk before the rename makes it visible
            # the temporary is created readable by its owner only; give it the permissions
            # any new file would have (0666 less the umask), as a plain open() would
            os.chmod(tmp_path, 0o666 & ~_UMASK)
            os.replace(tmp_path, target)
        except OSError as exc:
            raise describe_write_error(exc, target) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, not per write (threads)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write text atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write JSON atomically, with NaN written as null."""
    return write_text(path, json.dumps(_clean(obj), indent=2, default=str) + "\n")


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Save a matplotlib Figure atomically (format from the suffix of ``path``)."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt)
    return Path(path)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:  # NaN
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return _clean(obj.item())
    return obj
