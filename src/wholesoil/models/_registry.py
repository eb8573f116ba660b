"""The model registry: every process model the commands can run, by name.

Each entry names the model's class by import path (``"module:Class"``, imported when first used,
so that this module and the command line's ``--help`` import no numpy), a one-line description
and the commands that support it (``simulate``, ``assimilate``, ``sensitivity``). The ``--model``
help of those commands is written from here; registering a model adds it there.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMANDS",
    "MODELS",
    "ModelEntry",
    "get_model",
    "model_help",
    "model_names",
    "register_model",
    "unregister_model",
]

#: The commands a model can support.
COMMANDS: tuple[str, ...] = ("simulate", "assimilate", "sensitivity")


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: ``target`` is ``"module:Class"``; ``commands`` ⊆ :data:`COMMANDS`."""

    name: str
    target: str
    description: str
    commands: frozenset[str]

    def load(self) -> Any:
        """The model class (imports its module)."""
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


#: name → :class:`ModelEntry`, in the order ``--help`` lists them.
MODELS: dict[str, ModelEntry] = {}


def register_model(name: str, target: str, description: str = "",
                   commands: tuple[str, ...] | frozenset[str] = ()) -> ModelEntry:
    """Register (or replace) a model under ``name``; returns its entry."""
    unknown = set(commands) - set(COMMANDS)
    if unknown:
        raise ValueError(f"unknown commands {sorted(unknown)}; choose from {list(COMMANDS)}")
    if ":" not in target:
        raise ValueError(f"model target must be 'module:Class', got {target!r}")
    entry = ModelEntry(name, target, description, frozenset(commands))
    MODELS[name] = entry
    return entry


def unregister_model(name: str) -> None:
    """Remove a registered model (no error when absent)."""
    MODELS.pop(name, None)


def model_names(command: str | None = None) -> list[str]:
    """Registered model names, those supporting ``command`` when given, in registration order."""
    return [n for n, m in MODELS.items() if command is None or command in m.commands]


def get_model(name: str) -> Any:
    """The model class registered as ``name`` (KeyError when unknown)."""
    return MODELS[name].load()


def model_help(command: str) -> str:
    """The ``--model`` help of ``command``: its models, ``a | b | c``."""
    return " | ".join(model_names(command))


register_model("clm5", "wholesoil.models._clm5:CLM5",
               "CLM5 soil biogeochemistry, 7 pools × 20 layers (Tao et al. (EarthArXiv))",
               ("simulate", "assimilate"))
register_model("compas", "wholesoil.models._compas:COMPAS",
               "COMPAS, 8 pools × 20 layers (Tao et al. (EarthArXiv))", ("simulate", "assimilate"))
register_model("mimics", "wholesoil.models._mimics:MIMICS",
               "MIMICS microbial model (He et al. (2024))", ("sensitivity",))
register_model("millennial", "wholesoil.models._millennial:Millennial",
               "Millennial v2 (He et al. (2024))", ("sensitivity",))
register_model("tao2024", "wholesoil.models._tao2024:Tao2024Model",
               "Tao et al. 2024 reply model (He et al. (2024))", ("sensitivity",))
register_model("awb", "wholesoil.models._awb:AWBModel",
               "AWB microbial-enzyme model (He et al. (2024))", ("sensitivity",))
