"""``wholesoil demo``: the whole profile workflow on the bundled real data, in one report.

Built from the workflows and the public API, a module per stage: :mod:`._profiles` (NCSCD pedons
and the ISRaD entry), :mod:`._mapping`, :mod:`._stocks`, :mod:`._models`, :mod:`._microbial`,
:mod:`._assimilation`, :mod:`._proda`, :mod:`._radiocarbon`, :mod:`._drivers`; :mod:`._run`
runs them in order and writes ``run.json`` and ``report.html``.
"""

from wholesoil.demo._run import run_demo

__all__ = ["run_demo"]
