"""CLM5's steady state in PyTorch, differentiable with respect to the 21 PRODA parameters.

The same equations as :class:`wholesoil.models.CLM5` (Tao et al. (EarthArXiv) Eq. 2–5), rebuilt with
torch operations so that autograd carries gradients from the steady-state SOC back to the parameters
(and, in :mod:`._e2e`, on to the weights of the network that predicts them)::

    X* = (V − A·ξ̄·K)⁻¹·B·Ī                                                         (Eq. 2, ss)

Everything that does not depend on the parameters is computed once, in numpy, by the functions
the numpy model uses (:func:`prepare_clm5_forcing`): the unscaled water scalar, the oxygen scalar,
the layers that receive litter, the surface-litter profile and the mixing bands for a unit
bio- and cryoturbation diffusivity. The parameter-dependent pieces are then exact torch ports:

* ξ_T = q10^((T − 25)/10) (PRODA sets the frozen-soil Q10 to q10, so the same power holds
  below 0 °C; :func:`wholesoil.models._scalars.temperature_scalar`), ξ_W = min(1, w·ξ_W⁰),
  ξ_D = exp(−z/z_τ); ξ̄ is the mean over the months of ξ_T·ξ_W·ξ_O, times ξ_D;
* V = diffus·V_bio + cryo·V_cryo: a column is either bioturbated or cryoturbated
  (:func:`wholesoil.models._transport.diffusivity`), and the harmonic-mean interface diffusivity
  is homogeneous of degree one, so the bands are exactly linear in the two diffusivities;
* B·I with the Jackson root profile b^(100·z_top) − b^(100·z_bottom) restricted to the thawed
  soil and renormalised (:func:`wholesoil.models._allocation.input_profiles`);
* K = 1/τ, A from the nine transfer fractions (Eq. 4, 5; L2 and L3 share ``tau4l2``; CWD sends
  ``fl2cwd`` to L2 and the rest to L3).

The solve follows the operator's structure: CWD by division (no mixing, no donors), then the
three litter pools with the CWD source, then the three SOC pools with the litter sources (each
group only receives from the groups before it). ``method="structured"`` solves the litter pools
as dense 20 × 20 (tridiagonal) systems and the SOC pools as one dense 60 × 60 system with
:func:`torch.linalg.solve` (whose backward pass is the adjoint solve); ``method="thomas"`` runs
the same sweeps as the numpy model — Thomas for litter, 3 × 3 block Thomas for SOC — written
out-of-place so autograd differentiates through them (fewer flops, more Python steps: faster for
large batches); ``"auto"`` picks by batch size (:data:`AUTO_THOMAS_BATCH`); ``method="dense"``
solves the full 140 × 140 system (the reference).

Limits: the fields ``fpi_vr`` (nitrogen) and CTSM's CENTURY normalisation are not supported
(PRODA uses neither); ``fs2s1``/``fs3s1`` must be given (PRODA calibrates them).

References
----------
Tao, F. et al. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation (Tao et al. (EarthArXiv)), §2.2, Eqs. 2–5, Supplementary Table 1.

Huang, Y. et al. (2018). Matrix approach to land carbon cycle modeling: a case study with the
Community Land Model. Glob. Change Biol. 24, 1394–1404. https://doi.org/10.1111/gcb.13948

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike

from wholesoil.errors import InputDataError
from wholesoil.models._allocation import (
    CLM5_LITTER_FRACTIONS,
    DEFAULT_CWD_FRACTION,
    SURFPROF_EXP,
    input_layer_mask,
    normalized_profile,
)
from wholesoil.models._clm5 import CLM5_PRODA_PARAMETERS, N_POOLS
from wholesoil.models._environment import LEAF_FRACTION
from wholesoil.models._scalars import MAXPSI, MINPSI, oxygen_scalar
from wholesoil.models._transport import diffusivity, mixing_operator
from wholesoil.models._vertical import VerticalGrid, clm5_grid

__all__ = [
    "AUTO_THOMAS_BATCH",
    "CLM5_TORCH_PARAMETERS",
    "CLM5TorchForcing",
    "SolveMethod",
    "clm5_steady_state_torch",
    "layer_overlap",
    "layer_stocks_torch",
    "prepare_clm5_forcing",
]

SolveMethod = Literal["auto", "structured", "thomas", "dense"]

#: Batch size from which ``method="auto"`` uses the Thomas sweeps instead of the pool-group dense
#: solves. Measured on one CPU thread (torch 2.13, forward + backward steady states per second):
#: batch 32 — structured 4,300, thomas 1,800; batch 512 — structured 4,200, thomas 14,000
#: (forward only: 7,500 and 48,500; numpy ``CLM5.steady_state`` 53,000–73,000).
AUTO_THOMAS_BATCH: int = 128

#: Order of the last axis of the parameter tensors: Tao et al. (EarthArXiv) Supplementary Table 1,
#: as
#: :data:`wholesoil.models.CLM5_PRODA_PARAMETERS` and ``ParameterSpace.from_clm5()``.
CLM5_TORCH_PARAMETERS: tuple[str, ...] = tuple(CLM5_PRODA_PARAMETERS)
_IDX = {n: i for i, n in enumerate(CLM5_TORCH_PARAMETERS)}
_T_REF = 25.0  # °C at which ξ_T = 1


@dataclass(frozen=True, eq=False)
class CLM5TorchForcing:
    """Parameter-independent pieces of CLM5 for B sites, as torch tensors.

    Build with :func:`prepare_clm5_forcing`. Shapes: B sites, M months (1 for a time-mean
    :class:`~wholesoil.models.Environment`), n layers.

    Attributes
    ----------
    tsoi : (B, M, n) [°C]
    xi_w0 : (B, M, n) [-]
        Water scalar before PRODA's scaling, ln(minpsi/ψ)/ln(minpsi/maxpsi) in [0, 1].
    xi_o : (B, M, n) [-]
        Oxygen scalar max(o, 0.2) (1 without oxygen limitation).
    v_bio, v_cryo : (3, B, n) [yr⁻¹ per m² yr⁻¹]
        Bands (lower, diag, upper) of V for a unit bio- and cryoturbation diffusivity.
    input_mask : (B, n) bool
        Layers that receive litter.
    surface : (B, n) [m⁻¹]
        Surface-litter profile exp(−10 z), normalised over ``input_mask``.
    npp : (B,) [g C m⁻² yr⁻¹]
    leaf_fraction, cwd_fraction : (B,) [-]
    z_node, z_top, z_bottom, dz : (n,) [m]
    """

    tsoi: torch.Tensor
    xi_w0: torch.Tensor
    xi_o: torch.Tensor
    v_bio: torch.Tensor
    v_cryo: torch.Tensor
    input_mask: torch.Tensor
    surface: torch.Tensor
    npp: torch.Tensor
    leaf_fraction: torch.Tensor
    cwd_fraction: torch.Tensor
    z_node: torch.Tensor
    z_top: torch.Tensor
    z_bottom: torch.Tensor
    dz: torch.Tensor
    grid: VerticalGrid

    @property
    def n_sites(self) -> int:
        """B."""
        return int(self.npp.shape[0])

    def subset(self, index: ArrayLike | torch.Tensor) -> CLM5TorchForcing:
        """Sites ``index`` (an integer index or boolean mask over B)."""
        if isinstance(index, torch.Tensor):
            i = index.to(self.npp.device)
        else:
            i = torch.as_tensor(np.asarray(index), device=self.npp.device)
        kw = {}
        for name in ("tsoi", "xi_w0", "xi_o", "input_mask", "surface", "npp", "leaf_fraction",
                     "cwd_fraction"):
            kw[name] = getattr(self, name)[i]
        kw["v_bio"] = self.v_bio[:, i]
        kw["v_cryo"] = self.v_cryo[:, i]
        for name in ("z_node", "z_top", "z_bottom", "dz", "grid"):
            kw[name] = getattr(self, name)
        return CLM5TorchForcing(**kw)

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> CLM5TorchForcing:
        """Copy to another device or floating dtype."""
        kw = {}
        for name in ("tsoi", "xi_w0", "xi_o", "v_bio", "v_cryo", "surface", "npp",
                     "leaf_fraction", "cwd_fraction", "z_node", "z_top", "z_bottom", "dz"):
            kw[name] = getattr(self, name).to(device=device, dtype=dtype)
        kw["input_mask"] = self.input_mask.to(device=device)
        kw["grid"] = self.grid
        return CLM5TorchForcing(**kw)


def _sites(a: Any, shape_tail: tuple[int, ...], b: int) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.broadcast_to(a, (b, *shape_tail)).copy()


def prepare_clm5_forcing(
    environment: Any,
    grid: VerticalGrid | None = None,
    *,
    dtype: torch.dtype = torch.float64,
    device: Any = None,
) -> CLM5TorchForcing:
    """Precompute the parameter-independent pieces of CLM5 for B sites (numpy → torch).

    Parameters
    ----------
    environment : Environment or Forcing
        Batch shape (B,) (or () for one site), as for :class:`wholesoil.models.CLM5`: a Forcing
        keeps its months (ξ is averaged over them after the parameters act), everything else is
        taken from its time mean.
    grid : VerticalGrid, optional
        CLM5's 20 layers by default.
    dtype, device :
        Of the returned tensors (float64 for gradient checks).

    Returns
    -------
    CLM5TorchForcing

    Raises
    ------
    InputDataError
        For a batch shape other than (B,) or (), or with ``fpi_vr`` (nitrogen) present.
    """
    from wholesoil.models._environment import Forcing

    g = clm5_grid() if grid is None else grid
    n = g.n_layers
    monthly = isinstance(environment, Forcing)
    static = environment.time_mean() if monthly else environment
    batch = tuple(environment.tsoi.shape[: -2 if monthly else -1])
    if len(batch) > 1:
        raise InputDataError("the environment must be batched over one axis of sites (B,)",
                             field="environment", value=batch)
    b = batch[0] if batch else 1
    tsoi = np.asarray(environment.tsoi, dtype=float)
    psi = np.asarray(environment.soilpsi, dtype=float)
    if not monthly:
        tsoi, psi = tsoi[..., None, :], psi[..., None, :]
    m = tsoi.shape[-2]
    tsoi = _sites(tsoi, (m, n), b)
    psi = _sites(psi, (m, n), b)
    xi_w0 = np.log(MINPSI / np.clip(psi, MINPSI, MAXPSI)) / math.log(MINPSI / MAXPSI)
    o = getattr(environment, "o_scalar", None)
    xi_o = oxygen_scalar(o)
    if o is not None and not monthly:
        xi_o = np.asarray(xi_o)[..., None, :]
    xi_o = _sites(xi_o, (m, n), b) if o is not None else np.ones((b, m, n))
    alt, alt_last = static.altmax, static.altmax_lastyear
    nb = np.asarray(static.nbedrock)
    d_bio = diffusivity(g, alt, alt_last, nb, bioturbation=1.0, cryoturbation=0.0)
    d_cryo = diffusivity(g, alt, alt_last, nb, bioturbation=0.0, cryoturbation=1.0)
    v_bio = np.stack([_sites(x, (n,), b) for x in mixing_operator(g, d_bio)])
    v_cryo = np.stack([_sites(x, (n,), b) for x in mixing_operator(g, d_cryo)])
    mask = np.broadcast_to(input_layer_mask(g, alt, alt_last, nb), (b, n)).copy()
    surf_share = np.broadcast_to(np.exp(-SURFPROF_EXP * g.z_node), (b, n))
    surface = normalized_profile(g, surf_share, mask)
    leaf = getattr(static, "leaf_fraction", None)
    cwd = getattr(static, "cwd_fraction", None)
    leaf = _sites(LEAF_FRACTION if leaf is None else leaf, (), b)
    cwd = _sites(DEFAULT_CWD_FRACTION if cwd is None else cwd, (), b)
    npp = _sites(static.npp, (), b)

    def t(a: Any) -> torch.Tensor:
        return torch.as_tensor(np.array(a, dtype=float), dtype=dtype, device=device)

    return CLM5TorchForcing(
        tsoi=t(tsoi), xi_w0=t(xi_w0), xi_o=t(xi_o), v_bio=t(v_bio), v_cryo=t(v_cryo),
        input_mask=torch.as_tensor(mask, device=device), surface=t(surface), npp=t(npp),
        leaf_fraction=t(leaf), cwd_fraction=t(cwd), z_node=t(g.z_node), z_top=t(g.z_top),
        z_bottom=t(g.z_bottom), dz=t(g.dz), grid=g,
    )


def _pieces(theta: torch.Tensor, f: CLM5TorchForcing) -> tuple[torch.Tensor, ...]:
    """Rates r (B, 7, n), transfers T (B, 7, 7), V bands (3, B, n), inputs BI (B, 7, n)."""
    p = {name: theta[..., i] for name, i in _IDX.items()}
    # ξ (Tao et al. (EarthArXiv) Eq. 2; _scalars.decomposition_scalar with froz_q10 = q10, no
    # CENTURY factor)
    xi_t = torch.exp(torch.log(p["q10"])[:, None, None] * (f.tsoi - _T_REF) / 10.0)
    xi_w = torch.clamp(p["w_scaling"][:, None, None] * f.xi_w0, max=1.0)
    xi_d = torch.exp(-f.z_node / p["efolding"][:, None])  # (B, n)
    xi = (xi_t * xi_w * f.xi_o).mean(dim=-2) * xi_d  # (B, n)
    # K (Eq. 4): CWD, L1, L2, L3 (= L2), S1, S2, S3
    tau = torch.stack([p["tau4cwd"], p["tau4l1"], p["tau4l2"], p["tau4l2"], p["tau4s1"],
                       p["tau4s2"], p["tau4s3"]], dim=-1)
    r = (1.0 / tau)[:, :, None] * xi[:, None, :]  # (B, 7, n)
    # A (Eq. 5): off-diagonal fractions (receiver, donor)
    bsz = theta.shape[0]
    T = theta.new_zeros((bsz, N_POOLS, N_POOLS))
    T[:, 2, 0] = p["fl2cwd"]
    T[:, 3, 0] = 1.0 - p["fl2cwd"]
    T[:, 4, 1] = p["fs1l1"]
    T[:, 4, 2] = p["fs1l2"]
    T[:, 5, 3] = p["fs2l3"]
    T[:, 5, 4] = p["fs2s1"]
    T[:, 6, 4] = p["fs3s1"]
    T[:, 4, 5] = p["fs1s2"]
    T[:, 6, 5] = p["fs3s2"]
    T[:, 4, 6] = p["fs1s3"]
    # V = diffus·V_bio + cryo·V_cryo
    V = p["diffus"][None, :, None] * f.v_bio + p["cryo"][None, :, None] * f.v_cryo
    # B·I: Jackson root profile β^(100 z_top) − β^(100 z_bottom) on the input layers
    logb = torch.log(p["b"])[:, None]
    share = torch.exp(100.0 * f.z_top * logb) - torch.exp(100.0 * f.z_bottom * logb)
    share = torch.where(f.input_mask, share, torch.zeros_like(share))
    root = share / share.sum(dim=-1, keepdim=True) / f.dz
    leaf = f.leaf_fraction[:, None]
    profile = leaf * f.surface + (1.0 - leaf) * root  # (B, n) [m⁻¹]
    f1, f2, f3 = CLM5_LITTER_FRACTIONS
    cwd = f.cwd_fraction
    pool_share = torch.stack([cwd, (1 - cwd) * f1, (1 - cwd) * f2, (1 - cwd) * f3], dim=-1)
    litter = f.npp[:, None, None] * pool_share[:, :, None] * profile[:, None, :]
    BI = torch.cat([litter, litter.new_zeros((bsz, 3, litter.shape[-1]))], dim=1)
    return r, T, V, BI


def _tridiag(V: torch.Tensor) -> torch.Tensor:
    """Dense (B, n, n) from bands (3, B, n)."""
    lower, diag, upper = V
    return (torch.diag_embed(diag) + torch.diag_embed(lower[:, 1:], offset=-1)
            + torch.diag_embed(upper[:, :-1], offset=1))


def _solve_structured(r, T, V, BI) -> torch.Tensor:
    bsz, _, n = r.shape
    Vd = _tridiag(V)  # (B, n, n)
    x_cwd = BI[:, 0] / r[:, 0]  # (B, n)
    flux_cwd = r[:, 0] * x_cwd
    # litter: (diag(r_p) + V)·x_p = BI_p + T_p0·flux_cwd
    m_lit = torch.diag_embed(r[:, 1:4]) + Vd[:, None]  # (B, 3, n, n)
    rhs_lit = BI[:, 1:4] + T[:, 1:4, 0, None] * flux_cwd[:, None, :]
    x_lit = torch.linalg.solve(m_lit, rhs_lit.unsqueeze(-1)).squeeze(-1)  # (B, 3, n)
    flux_lit = r[:, 1:4] * x_lit
    # SOC: block (a, c) = δ_ac·(diag(r_a) + V) − T_ac·diag(r_c)
    eye3 = torch.eye(3, dtype=r.dtype, device=r.device)
    coef = eye3 - T[:, 4:7, 4:7]  # (B, 3, 3)
    blocks = coef[:, :, :, None] * r[:, None, 4:7, :]  # (B, 3, 3, n) diagonal entries
    m_som = torch.diag_embed(blocks)  # (B, 3, 3, n, n)
    m_som = m_som + eye3[None, :, :, None, None] * Vd[:, None, None]
    m_som = m_som.permute(0, 1, 3, 2, 4).reshape(bsz, 3 * n, 3 * n)
    rhs_som = BI[:, 4:7] + torch.einsum("bpq,bqn->bpn", T[:, 4:7, 1:4], flux_lit)
    x_som = torch.linalg.solve(m_som, rhs_som.reshape(bsz, 3 * n, 1)).reshape(bsz, 3, n)
    return torch.cat([x_cwd[:, None], x_lit, x_som], dim=1)


def _thomas(lo: torch.Tensor, d: torch.Tensor, up: torch.Tensor, rhs: torch.Tensor
            ) -> torch.Tensor:
    """Tridiagonal solve along the last axis, (..., n) bands and rhs; out-of-place (autograd)."""
    n = d.shape[-1]
    cp, yp = [], []
    for j in range(n):
        den = d[..., j] if j == 0 else d[..., j] - lo[..., j] * cp[-1]
        num = rhs[..., j] if j == 0 else rhs[..., j] - lo[..., j] * yp[-1]
        cp.append(up[..., j] / den)
        yp.append(num / den)
    x = [yp[-1]]
    for j in range(n - 2, -1, -1):
        x.append(yp[j] - cp[j] * x[-1])
    return torch.stack(x[::-1], dim=-1)


def _solve_thomas(r, T, V, BI) -> torch.Tensor:
    """Structure all the way down: Thomas for litter, 3 × 3 block Thomas for SOC (as numpy)."""
    lower, diag, upper = V  # (B, n) each
    n = r.shape[-1]
    x_cwd = BI[:, 0] / r[:, 0]
    flux_cwd = r[:, 0] * x_cwd
    rhs_lit = BI[:, 1:4] + T[:, 1:4, 0, None] * flux_cwd[:, None, :]
    x_lit = _thomas(lower[:, None], r[:, 1:4] + diag[:, None], upper[:, None], rhs_lit)
    flux_lit = r[:, 1:4] * x_lit
    rhs = BI[:, 4:7] + torch.einsum("bpq,bqn->bpn", T[:, 4:7, 1:4], flux_lit)  # (B, 3, n)
    eye3 = torch.eye(3, dtype=r.dtype, device=r.device)
    coef = eye3 - T[:, 4:7, 4:7]  # (B, 3, 3)
    cp, yp = [], []
    for j in range(n):
        D = coef * r[:, None, 4:7, j] + diag[:, j, None, None] * eye3  # (B, 3, 3)
        b = rhs[:, :, j]
        if j > 0:
            D = D - lower[:, j, None, None] * cp[-1]
            b = b - lower[:, j, None] * yp[-1]
        sol = torch.linalg.solve(D, torch.cat([upper[:, j, None, None] * eye3, b[..., None]],
                                              dim=-1))  # (B, 3, 4)
        cp.append(sol[..., :3])
        yp.append(sol[..., 3])
    xs = [yp[-1]]
    for j in range(n - 2, -1, -1):
        xs.append(yp[j] - torch.einsum("bij,bj->bi", cp[j], xs[-1]))
    x_som = torch.stack(xs[::-1], dim=-1)  # (B, 3, n)
    return torch.cat([x_cwd[:, None], x_lit, x_som], dim=1)


def _solve_dense(r, T, V, BI) -> torch.Tensor:
    bsz, p, n = r.shape
    eye_p = torch.eye(p, dtype=r.dtype, device=r.device)
    coef = eye_p - T  # (B, 7, 7): −A
    m = torch.diag_embed(coef[:, :, :, None] * r[:, None, :, :])  # (B, 7, 7, n, n)
    mixed = torch.ones(p, dtype=r.dtype, device=r.device)
    mixed[0] = 0.0
    m = m + (eye_p * mixed)[None, :, :, None, None] * _tridiag(V)[:, None, None]
    m = m.permute(0, 1, 3, 2, 4).reshape(bsz, p * n, p * n)
    x = torch.linalg.solve(m, BI.reshape(bsz, p * n, 1))
    return x.reshape(bsz, p, n)


def clm5_steady_state_torch(
    theta: torch.Tensor,
    forcing: CLM5TorchForcing,
    *,
    method: SolveMethod = "auto",
) -> torch.Tensor:
    """Steady state X* = (V − A·ξ̄·K)⁻¹·B·Ī of CLM5 (Tao et al. (EarthArXiv) Eq. 2), differentiable.

    Parameters
    ----------
    theta : tensor (B, 21)
        The PRODA parameters in their own units, in the order of
        :data:`CLM5_TORCH_PARAMETERS` (Tao et al. (EarthArXiv) Supplementary Table 1): transfer
        fractions [-], turnover times [yr], w_scaling and q10 [-], efolding [m], cryo and diffus [m²
        yr⁻¹], b [-]. Values must lie in the model's domain (τ, q10, efolding > 0; 0 < b < 1); the
        caller (e.g. the prior map) is responsible, no check is made inside the autograd graph.
    forcing : CLM5TorchForcing
        B sites (or 1, broadcast), from :func:`prepare_clm5_forcing`.
    method : {"auto", "structured", "thomas", "dense"}
        Pool-group dense solves (CWD, litter 3 × 20², SOC 60²), Thomas / block-Thomas sweeps,
        the full 140² system, or "auto": Thomas from :data:`AUTO_THOMAS_BATCH` sites up.

    Returns
    -------
    tensor (B, 7, n) [g C m⁻³]
        Pools CWD, L1, L2, L3, S1, S2, S3 by layer.
    """
    if theta.ndim != 2 or theta.shape[-1] != len(CLM5_TORCH_PARAMETERS):
        raise InputDataError(f"theta must have shape (B, {len(CLM5_TORCH_PARAMETERS)})",
                             field="theta", value=tuple(theta.shape))
    if forcing.n_sites not in (1, theta.shape[0]):
        raise InputDataError(f"forcing has {forcing.n_sites} sites, theta {theta.shape[0]} rows",
                             field="forcing", value=forcing.n_sites)
    if forcing.n_sites == 1 and theta.shape[0] != 1:
        forcing = forcing.subset(np.zeros(theta.shape[0], dtype=np.int64))
    if method == "auto":
        method = "thomas" if theta.shape[0] >= AUTO_THOMAS_BATCH else "structured"
    solver = _SOLVERS.get(method)
    if solver is None:
        raise InputDataError(f"method must be one of {sorted(_SOLVERS)}", field="method",
                             value=method)
    return solver(*_pieces(theta.to(forcing.npp.dtype), forcing))


_SOLVERS = {"structured": _solve_structured, "thomas": _solve_thomas, "dense": _solve_dense}


def layer_overlap(top: ArrayLike, bottom: ArrayLike,
                  grid: VerticalGrid | None = None) -> np.ndarray:
    """Length of each observed interval inside each model layer (P, L, n) [m].

    ``W[p, l, j] = |[top, bottom] ∩ [z_top,j, z_bottom,j]|`` so that ``W @ x`` is the exact
    integral of a piecewise-constant density x (Eq. O1 of :mod:`wholesoil.models._observe`).
    NaN (padded) intervals get zero rows.

    Parameters
    ----------
    top, bottom : array (P, L) [cm]
    grid : VerticalGrid, optional
    """
    g = clm5_grid() if grid is None else grid
    t = np.asarray(top, dtype=float)[..., None] / 100.0
    b = np.asarray(bottom, dtype=float)[..., None] / 100.0
    with np.errstate(invalid="ignore"):
        w = np.minimum(b, g.z_bottom) - np.maximum(t, g.z_top)
        w = np.where(np.isnan(w), 0.0, np.maximum(w, 0.0))
    return w


def layer_stocks_torch(density: torch.Tensor, overlap: torch.Tensor) -> torch.Tensor:
    """SOC stocks of observed layers (P, L) [Mg C ha⁻¹] from densities (P, n) [g C m⁻³].

    Exact integration of the layer densities over each interval (Eq. O1 of
    :func:`wholesoil.models.layer_stocks`), 1 g C m⁻² = 0.01 Mg C ha⁻¹; ``overlap`` from
    :func:`layer_overlap`.
    """
    return 0.01 * torch.einsum("pln,pn->pl", overlap, density)
