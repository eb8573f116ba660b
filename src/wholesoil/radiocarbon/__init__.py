"""wholesoil.radiocarbon: atmospheric ¹⁴C curves, the one-pool model and carbon ages (seed 004
Eqs. 1–5), carbon inputs to bulk soil, root-derived inputs and their direct losses (Eq. 6)."""
