"""Process-based soil carbon models in matrix form (seed 003 Eq. 2).

dX/dt = B·I + A·ξ·K·X − V·X: the vertically resolved CLM5 (7 pools × 20 layers) and COMPAS
(8 pools × 20 layers) models, their environmental scalars, vertical mixing and input allocation,
fast structured steady states batched over sites and parameter sets, radiocarbon, ages and the
system-level diagnostics of seed 003 Eqs. 10–14.
"""
