"""Process-based soil carbon models (seed 003 Eq. 2) and microbial models (seed 002).

dX/dt = B·I + A·ξ·K·X − V·X: the vertically resolved CLM5 (7 pools × 20 layers) and COMPAS
(8 pools × 20 layers) models, their environmental scalars, vertical mixing and input allocation,
fast structured steady states batched over sites and parameter sets, radiocarbon, ages and the
system-level diagnostics of seed 003 Eqs. 10–14; MIMICS, Millennial v2 and Tao et al.'s reply
model with density-dependent microbial turnover, robust nonlinear steady states, and the
CUE-versus-input sensitivity analyses of seed 002 (elasticities, response surfaces, Sobol).
"""

from wholesoil.models._ages import (
    LAMBDA_14C,
    age_summary,
    dense_solver,
    mean_transit_time,
    pool_mean_ages,
    radiocarbon_steady_state,
    system_mean_age,
)
from wholesoil.models._allocation import input_profiles
from wholesoil.models._awb import AWB_PARAMETERS, AWBModel
from wholesoil.models._blocksolve import solve_block_tridiagonal, solve_tridiagonal
from wholesoil.models._clm5 import (
    CLM5,
    CLM5_DEFAULTS,
    CLM5_POOLS,
    CLM5_PRODA_PARAMETERS,
    CLM5Parameters,
)
from wholesoil.models._compas import COMPAS, COMPAS_PARAMETERS, COMPASParameters, COMPASSteadyState
from wholesoil.models._compas import POOLS as COMPAS_POOLS
from wholesoil.models._diagnostics import (
    SystemDiagnostics,
    bulk_decomposition_rate,
    carbon_transfer_efficiency,
    environmental_scalar_system,
    input_allocation_index,
    system_diagnostics,
    vertical_transport_system,
)
from wholesoil.models._environment import (
    Environment,
    Forcing,
    forcing_from_climate,
    miami_npp,
    read_clm5_history,
)
from wholesoil.models._millennial import Millennial
from wholesoil.models._mimics import MIMICS
from wholesoil.models._nonlinear import SteadyStateReport, find_steady_states
from wholesoil.models._observe import cumulative_stock, layer_stocks, standard_layer_stocks
from wholesoil.models._parameters import Parameter, parameter_table
from wholesoil.models._scalars import (
    century_normalization,
    decomposition_scalar,
    depth_scalar,
    oxygen_scalar,
    temperature_scalar,
    water_scalar,
)
from wholesoil.models._sensitivity import (
    elasticity,
    elasticity_table,
    grid_response,
    plot_elasticities,
    plot_response_surfaces,
    sobol_indices,
    zscore_by,
)
from wholesoil.models._tao2024 import Tao2024Model
from wholesoil.models._transport import diffusivity, mixing_matrix, mixing_operator
from wholesoil.models._vertical import VerticalGrid, clm5_grid

__all__ = [
    "AWB_PARAMETERS",
    "CLM5",
    "CLM5_DEFAULTS",
    "CLM5_POOLS",
    "CLM5_PRODA_PARAMETERS",
    "COMPAS",
    "COMPAS_PARAMETERS",
    "COMPAS_POOLS",
    "LAMBDA_14C",
    "MIMICS",
    "AWBModel",
    "CLM5Parameters",
    "COMPASParameters",
    "COMPASSteadyState",
    "Environment",
    "Forcing",
    "Millennial",
    "Parameter",
    "SteadyStateReport",
    "SystemDiagnostics",
    "Tao2024Model",
    "VerticalGrid",
    "age_summary",
    "bulk_decomposition_rate",
    "carbon_transfer_efficiency",
    "century_normalization",
    "clm5_grid",
    "cumulative_stock",
    "decomposition_scalar",
    "dense_solver",
    "depth_scalar",
    "diffusivity",
    "elasticity",
    "elasticity_table",
    "environmental_scalar_system",
    "find_steady_states",
    "forcing_from_climate",
    "grid_response",
    "input_allocation_index",
    "input_profiles",
    "layer_stocks",
    "mean_transit_time",
    "miami_npp",
    "mixing_matrix",
    "mixing_operator",
    "oxygen_scalar",
    "parameter_table",
    "plot_elasticities",
    "plot_response_surfaces",
    "pool_mean_ages",
    "radiocarbon_steady_state",
    "read_clm5_history",
    "sobol_indices",
    "solve_block_tridiagonal",
    "solve_tridiagonal",
    "standard_layer_stocks",
    "system_diagnostics",
    "system_mean_age",
    "temperature_scalar",
    "vertical_transport_system",
    "water_scalar",
    "zscore_by",
]
