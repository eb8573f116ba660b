"""Safe model files: fitted learners saved and loaded without unpickling.

A saved model is a folder::

    model.skops   the fitted estimator in the skops format (a zip of JSON and .npy arrays;
                  https://skops.readthedocs.io/en/stable/persistence.html)
    model.json    what it is: learner, target, features, units, training size, CV skill,
                  wholesoil / scikit-learn versions, and the sha256 of model.skops

Loading never runs pickle. skops rebuilds objects from their stored state and only for types
it is told to trust; :func:`load_model` trusts a type only if it is a *class* (never a function)
defined in one of :data:`TRUSTED_MODULE_PREFIXES`. Any other type in the file stops the load
with an error listing it, so a file from an untrusted source cannot execute code. The sha256 in
``model.json`` detects a truncated or swapped ``model.skops``.

Both files are written atomically; ``model.json`` is written last, so a folder with a
``model.json`` always holds a complete model.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import skops.io as sio

from wholesoil._atomic import atomic_path, write_json
from wholesoil.errors import InputDataError

#: Modules whose classes a model file may instantiate on load.
TRUSTED_MODULE_PREFIXES: tuple[str, ...] = (
    "wholesoil.",
    "sklearn.",
    "quantile_forest.",
    "xgboost.",
    "cubist.",
    "numpy.",
    "scipy.",
)

MODEL_FILE = "model.skops"
META_FILE = "model.json"
FORMAT_VERSION = 1


@dataclass
class SavedModel:
    """A loaded model with its metadata (``model.json``)."""

    estimator: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return list(self.meta.get("features", []))

    @property
    def target(self) -> str | None:
        return self.meta.get("target")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict[str, str]:
    import sklearn

    import wholesoil

    out = {"wholesoil": wholesoil.__version__, "scikit-learn": sklearn.__version__}
    for name in ("skops", "quantile-forest", "xgboost-cpu", "xgboost", "cubist"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def save_model(estimator: Any, folder: str | os.PathLike[str], **meta: Any) -> Path:
    """Save a fitted estimator and its metadata into ``folder`` (created if needed).

    Parameters
    ----------
    estimator : fitted scikit-learn-compatible estimator
    folder : path
        Output folder; ``model.skops`` and ``model.json`` are (re)written atomically.
    **meta
        JSON-serializable facts about the model (``target``, ``features``, ``learner``, …).

    Returns
    -------
    Path of ``model.json``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    with atomic_path(model_path) as tmp:
        sio.dump(estimator, tmp)
    record = {
        "format": "wholesoil-model",
        "format_version": FORMAT_VERSION,
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "model_file": MODEL_FILE,
        "sha256": _sha256(model_path),
        "versions": _versions(),
        **meta,
    }
    return write_json(folder / META_FILE, record)


def _is_trusted(type_name: str) -> bool:
    if not type_name.startswith(TRUSTED_MODULE_PREFIXES):
        return False
    module_name, _, attr = type_name.rpartition(".")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError:
        # nested names such as "pkg.mod.Outer.Inner": walk from the longest importable prefix
        parts = type_name.split(".")
        obj = None
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for part in parts[i:]:
                obj = getattr(obj, part, None)
            break
        return inspect.isclass(obj)
    return inspect.isclass(getattr(obj, attr, None))


def load_model(folder: str | os.PathLike[str]) -> SavedModel:
    """Load a model saved by :func:`save_model`, trusting only allow-listed classes.

    Raises
    ------
    InputDataError
        Missing files, a checksum mismatch, or a type outside the allow-list (named).
    """
    folder = Path(folder)
    meta_path = folder / META_FILE
    model_path = folder / MODEL_FILE
    if not meta_path.is_file() or not model_path.is_file():
        raise InputDataError(
            f"expected a model folder with {META_FILE} and {MODEL_FILE} "
            "(as written by `wholesoil train`)",
            file=str(folder),
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputDataError(f"not valid JSON: {exc}", file=str(meta_path)) from exc
    if meta.get("format") != "wholesoil-model":
        raise InputDataError(
            "expected format 'wholesoil-model'", file=str(meta_path), field="format",
            value=meta.get("format"), has_value=True,
        )
    digest = _sha256(model_path)
    if digest != meta.get("sha256"):
        raise InputDataError(
            f"checksum mismatch: {MODEL_FILE} is not the file this {META_FILE} describes",
            file=str(model_path), field="sha256", value=digest,
        )
    untrusted = sio.get_untrusted_types(file=model_path)
    refused = [t for t in untrusted if not _is_trusted(t)]
    if refused:
        raise InputDataError(
            "refusing to load: the model file asks for types outside the allow-list "
            f"(classes from {', '.join(p.rstrip('.') for p in TRUSTED_MODULE_PREFIXES)}): "
            f"{refused}",
            file=str(model_path),
        )
    estimator = sio.load(model_path, trusted=untrusted)
    return SavedModel(estimator=estimator, meta=meta)
