"""Process-based soil carbon models (Tao et al. (EarthArXiv) Eq. 2) and microbial models
(He et al. (2024)).

dX/dt = B·I + A·ξ·K·X − V·X: the vertically resolved CLM5 (7 pools × 20 layers) and COMPAS
(8 pools × 20 layers) models, their environmental scalars, vertical mixing and input allocation,
fast structured steady states batched over sites and parameter sets, radiocarbon, ages and the
system-level diagnostics of Tao et al. (EarthArXiv) Eqs. 10–14; MIMICS, Millennial v2 and
Tao et al.'s reply model with density-dependent microbial turnover, robust nonlinear steady states,
and the CUE-versus-input sensitivity analyses of He et al. (2024) (elasticities, response surfaces,
Sobol).

Names are imported on first use (PEP 562), so that ``wholesoil.models._registry`` (the model
registry the command line reads for its ``--model`` choices) loads without numpy. CLM5 history
files are read by :func:`wholesoil.io.read_clm5_history`.

References
----------
He, X., Abramoff, R. Z., Abs, E., Georgiou, K., Zhang, H. & Goll, D. S. (2024). Model uncertainty
obscures major driver of soil carbon. Nature. https://doi.org/10.1038/s41586-023-06999-1

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from wholesoil._lazy import lazy_exports

#: Public name → (module, attribute), imported on first access.
_EXPORTS: dict[str, tuple[str, str]] = {
    "LAMBDA_14C": ("wholesoil.models._ages", "LAMBDA_14C"),
    "age_summary": ("wholesoil.models._ages", "age_summary"),
    "dense_solver": ("wholesoil.models._ages", "dense_solver"),
    "mean_transit_time": ("wholesoil.models._ages", "mean_transit_time"),
    "pool_mean_ages": ("wholesoil.models._ages", "pool_mean_ages"),
    "radiocarbon_steady_state": ("wholesoil.models._ages", "radiocarbon_steady_state"),
    "system_mean_age": ("wholesoil.models._ages", "system_mean_age"),
    "input_profiles": ("wholesoil.models._allocation", "input_profiles"),
    "AWBModel": ("wholesoil.models._awb", "AWBModel"),
    "AWB_PARAMETERS": ("wholesoil.models._awb", "AWB_PARAMETERS"),
    "solve_block_tridiagonal": ("wholesoil.models._blocksolve", "solve_block_tridiagonal"),
    "solve_tridiagonal": ("wholesoil.models._blocksolve", "solve_tridiagonal"),
    "CLM5": ("wholesoil.models._clm5", "CLM5"),
    "CLM5Parameters": ("wholesoil.models._clm5", "CLM5Parameters"),
    "CLM5_DEFAULTS": ("wholesoil.models._clm5", "CLM5_DEFAULTS"),
    "CLM5_POOLS": ("wholesoil.models._clm5", "CLM5_POOLS"),
    "CLM5_PRODA_PARAMETERS": ("wholesoil.models._clm5", "CLM5_PRODA_PARAMETERS"),
    "COMPAS": ("wholesoil.models._compas", "COMPAS"),
    "COMPASParameters": ("wholesoil.models._compas", "COMPASParameters"),
    "COMPASSteadyState": ("wholesoil.models._compas", "COMPASSteadyState"),
    "COMPAS_PARAMETERS": ("wholesoil.models._compas", "COMPAS_PARAMETERS"),
    "COMPAS_POOLS": ("wholesoil.models._compas", "POOLS"),
    "SystemDiagnostics": ("wholesoil.models._diagnostics", "SystemDiagnostics"),
    "bulk_decomposition_rate": ("wholesoil.models._diagnostics", "bulk_decomposition_rate"),
    "carbon_transfer_efficiency": ("wholesoil.models._diagnostics", "carbon_transfer_efficiency"),
    "environmental_scalar_system": ("wholesoil.models._diagnostics", "environmental_scalar_system"),
    "input_allocation_index": ("wholesoil.models._diagnostics", "input_allocation_index"),
    "system_diagnostics": ("wholesoil.models._diagnostics", "system_diagnostics"),
    "vertical_transport_system": ("wholesoil.models._diagnostics", "vertical_transport_system"),
    "Environment": ("wholesoil.models._environment", "Environment"),
    "Forcing": ("wholesoil.models._environment", "Forcing"),
    "forcing_from_climate": ("wholesoil.models._environment", "forcing_from_climate"),
    "holdridge_forest": ("wholesoil.models._environment", "holdridge_forest"),
    "CWD_FRACTION_FOREST": ("wholesoil.models._environment", "CWD_FRACTION_FOREST"),
    "cwd_from_climate": ("wholesoil.models._environment", "cwd_from_climate"),
    "miami_npp": ("wholesoil.models._environment", "miami_npp"),
    "Millennial": ("wholesoil.models._millennial", "Millennial"),
    "MIMICS": ("wholesoil.models._mimics", "MIMICS"),
    "SteadyStateReport": ("wholesoil.models._nonlinear", "SteadyStateReport"),
    "find_steady_states": ("wholesoil.models._nonlinear", "find_steady_states"),
    "cumulative_stock": ("wholesoil.models._observe", "cumulative_stock"),
    "layer_stocks": ("wholesoil.models._observe", "layer_stocks"),
    "standard_layer_stocks": ("wholesoil.models._observe", "standard_layer_stocks"),
    "Parameter": ("wholesoil.models._parameters", "Parameter"),
    "parameter_table": ("wholesoil.models._parameters", "parameter_table"),
    "MODELS": ("wholesoil.models._registry", "MODELS"),
    "ModelEntry": ("wholesoil.models._registry", "ModelEntry"),
    "get_model": ("wholesoil.models._registry", "get_model"),
    "model_names": ("wholesoil.models._registry", "model_names"),
    "register_model": ("wholesoil.models._registry", "register_model"),
    "unregister_model": ("wholesoil.models._registry", "unregister_model"),
    "century_normalization": ("wholesoil.models._scalars", "century_normalization"),
    "decomposition_scalar": ("wholesoil.models._scalars", "decomposition_scalar"),
    "depth_scalar": ("wholesoil.models._scalars", "depth_scalar"),
    "oxygen_scalar": ("wholesoil.models._scalars", "oxygen_scalar"),
    "temperature_scalar": ("wholesoil.models._scalars", "temperature_scalar"),
    "water_scalar": ("wholesoil.models._scalars", "water_scalar"),
    "elasticity": ("wholesoil.models._sensitivity", "elasticity"),
    "elasticity_table": ("wholesoil.models._sensitivity", "elasticity_table"),
    "grid_response": ("wholesoil.models._sensitivity", "grid_response"),
    # figures: in wholesoil.plots, loaded (with matplotlib) on first use
    "plot_elasticities": ("wholesoil.plots", "plot_elasticities"),
    "plot_response_surfaces": ("wholesoil.plots", "plot_response_surfaces"),
    "sobol_indices": ("wholesoil.models._sensitivity", "sobol_indices"),
    "zscore_by": ("wholesoil.models._sensitivity", "zscore_by"),
    "Tao2024Model": ("wholesoil.models._tao2024", "Tao2024Model"),
    "diffusivity": ("wholesoil.models._transport", "diffusivity"),
    "mixing_matrix": ("wholesoil.models._transport", "mixing_matrix"),
    "mixing_operator": ("wholesoil.models._transport", "mixing_operator"),
    "VerticalGrid": ("wholesoil.models._vertical", "VerticalGrid"),
    "clm5_grid": ("wholesoil.models._vertical", "clm5_grid"),
}

__all__ = sorted(n for n in _EXPORTS if not n.startswith("plot_"))

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
