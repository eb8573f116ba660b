"""wholesoil.radiocarbon: atmospheric ¹⁴C curves, the one-pool model and carbon ages
(Wang G. et al. (manuscript) Eqs. 1–5), carbon inputs to bulk soil, root-derived inputs and their
direct losses (Eq. 6).

Names are imported on first use (PEP 562).

References
----------
Wang, G., Xiao, L., Mao, X., Guo, X., Cowie, A., Zhang, S., Wang, M., Chen, S., Zhang, G., Shi, Z. &
Luo, Z. Most root-derived carbon inputs do not contribute to the global bulk soil carbon pool.
Manuscript.
"""

from __future__ import annotations

from wholesoil._lazy import lazy_exports

#: Public name → (module, attribute), imported on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "AtmosphericCurve": ("wholesoil.radiocarbon._atmosphere", "AtmosphericCurve"),
    "DEFAULT_F_BNPP": ("wholesoil.radiocarbon._inputs", "DEFAULT_F_BNPP"),
    "EstimatePiece": ("wholesoil.radiocarbon._estimates", "EstimatePiece"),
    "HarmonizedInputs": ("wholesoil.radiocarbon._inputs", "HarmonizedInputs"),
    "InputEstimate": ("wholesoil.radiocarbon._estimates", "InputEstimate"),
    "InputProfiles": ("wholesoil.radiocarbon._input_profiles", "InputProfiles"),
    "LAMBDA_ISRAD": ("wholesoil.radiocarbon._atmosphere", "LAMBDA_ISRAD"),
    "LAMBDA_SEED004": ("wholesoil.radiocarbon._atmosphere", "LAMBDA_SEED004"),
    "LAMBDA_SOILR": ("wholesoil.radiocarbon._atmosphere", "LAMBDA_SOILR"),
    "MONTE_CARLO_DRAWS": ("wholesoil.radiocarbon._inputs", "MONTE_CARLO_DRAWS"),
    "MonteCarloInputs": ("wholesoil.radiocarbon._input_uncertainty", "MonteCarloInputs"),
    "OnePoolInversion": ("wholesoil.radiocarbon._onepool", "OnePoolInversion"),
    "RootProfile": ("wholesoil.radiocarbon._input_profiles", "RootProfile"),
    "SEED004_DEPTHS": ("wholesoil.radiocarbon._inputs", "SEED004_DEPTHS"),
    "SEED004_ESTIMATES": ("wholesoil.radiocarbon._inputs", "SEED004_ESTIMATES"),
    "SteadyStateD14C": ("wholesoil.radiocarbon._onepool", "SteadyStateD14C"),
    "ZONES": ("wholesoil.radiocarbon._atmosphere", "ZONES"),
    "ZONE_LATITUDE_BOUNDS": ("wholesoil.radiocarbon._atmosphere", "ZONE_LATITUDE_BOUNDS"),
    "absolute_from_delta14c": ("wholesoil.radiocarbon._atmosphere", "absolute_from_delta14c"),
    "bulk_inputs": ("wholesoil.radiocarbon._inputs", "bulk_inputs"),
    "clm5_steady_state_d14c": ("wholesoil.radiocarbon._onepool", "clm5_steady_state_d14c"),
    "compare_estimates": ("wholesoil.radiocarbon._estimates", "compare_estimates"),
    "delta14c_from_absolute": ("wholesoil.radiocarbon._atmosphere", "delta14c_from_absolute"),
    "delta14c_from_fraction_modern":
        ("wholesoil.radiocarbon._atmosphere", "delta14c_from_fraction_modern"),
    "direct_losses": ("wholesoil.radiocarbon._inputs", "direct_losses"),
    "fmm_spline": ("wholesoil.radiocarbon._atmosphere", "fmm_spline"),
    "fraction_modern_from_delta14c":
        ("wholesoil.radiocarbon._atmosphere", "fraction_modern_from_delta14c"),
    "harmonization_weights": ("wholesoil.radiocarbon._inputs", "harmonization_weights"),
    "harmonize_inputs": ("wholesoil.radiocarbon._inputs", "harmonize_inputs"),
    "invert_onepool": ("wholesoil.radiocarbon._onepool", "invert_onepool"),
    "load_atmosphere": ("wholesoil.radiocarbon._atmosphere", "load_atmosphere"),
    "monte_carlo_inputs": ("wholesoil.radiocarbon._input_uncertainty", "monte_carlo_inputs"),
    "npp_g_m2_to_mg_ha": ("wholesoil.radiocarbon._inputs", "npp_g_m2_to_mg_ha"),
    "onepool_ages": ("wholesoil.radiocarbon._onepool", "onepool_ages"),
    "onepool_d14c": ("wholesoil.radiocarbon._onepool", "onepool_d14c"),
    "onepool_d14c_at": ("wholesoil.radiocarbon._onepool", "onepool_d14c_at"),
    "onepool_steady_state": ("wholesoil.radiocarbon._onepool", "onepool_steady_state"),
    "profile_npp": ("wholesoil.radiocarbon._inputs", "profile_npp"),
    "root_inputs": ("wholesoil.radiocarbon._inputs", "root_inputs"),
    "steady_state_d14c": ("wholesoil.radiocarbon._onepool", "steady_state_d14c"),
    "zone_from_latitude": ("wholesoil.radiocarbon._atmosphere", "zone_from_latitude"),
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
