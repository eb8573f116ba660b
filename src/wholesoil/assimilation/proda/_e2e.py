"""End-to-end differentiable calibration: covariates → network → CLM5 steady state → SOC.

Beyond PRODA (issue 8; ``shared/specs/assimilation.md`` "Beyond PRODA"). Two-step PRODA first
calibrates every profile by MCMC and then teaches a network the posterior means. Here the
network's output goes straight into the process model and the loss is taken against the observed
SOC of every layer, so no per-profile MCMC is run:

.. math::

    u_p = f_w(\\tilde x_p), \\quad \\theta_p = l + u_p (h - l), \\quad
    X^*_p = (V - A\\bar\\xi K)^{-1} B\\bar I \\,(\\theta_p), \\quad
    S_{p,i} = \\int_{t_i}^{b_i} (S1 + S2 + S3)(z)\\,dz                                    (E1)

    \\mathcal{L}(w) = \\frac{1}{|P|} \\sum_{p \\in P} \\sum_i w_{p,i}
        \\frac{(S_{p,i} - O_{p,i})^2}{2 (0.6\\, O_{p,i})^2}                                  (E2)

with f_w the network of :mod:`._network` (sigmoid output, so u ∈ (0, 1) and θ stays in the
prior box; u is kept within [1e-9, 1 − 1e-9] so that the open ends of the prior — τ > 0, b < 1 —
are never reached), the steady state of :func:`._differentiable.clm5_steady_state_torch`,
the exact layer integral of :func:`wholesoil.models.layer_stocks` (Eq. O1) and, as the loss, the
cost PRODA minimises per profile for CLM5 (:func:`wholesoil.assimilation.proda_clm5_cost`,
rank weights ``w = max(1, 10·e^−(rank−1))``, σ = 0.6·obs), averaged over the profiles of a
batch. Training is the same mini-batch loop as the two-step network, with early stopping on
held-out *profiles* (their cost, Eq. E2) and the best network kept.

Only CLM5 is supported (its torch port); the parameter space must be CLM5's 21 parameters in
the order of Tao et al. (EarthArXiv) Supplementary Table 1.

References
----------
Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from wholesoil.assimilation._costs import (
    PRODA_CLM5_RELATIVE_SD,
    nse,
    proda_clm5_weights,
)
from wholesoil.assimilation.proda._covariates import Scaler
from wholesoil.assimilation.proda._differentiable import (
    CLM5_TORCH_PARAMETERS,
    SolveMethod,
    clm5_steady_state_torch,
    layer_overlap,
    prepare_clm5_forcing,
)
from wholesoil.assimilation.proda._network import (
    ParameterNetwork,
    _resolve_device,
    _Seeded,
    _split,
    _train,
)
from wholesoil.errors import InputDataError

__all__ = ["U_MARGIN", "fit_end_to_end", "predict_layer_stocks"]

#: Distance kept from the ends of the unit interval [-]: the prior's open ends (τ = 0, b = 1)
#: are outside CLM5's domain.
U_MARGIN: float = 1e-9


class _Batch:
    """Torch tensors of one ProfileData for Eq. E1–E2."""

    def __init__(self, data: Any, dev: torch.device, method: SolveMethod) -> None:
        self.forcing = prepare_clm5_forcing(data.forcing, dtype=torch.float64, device=dev)
        p = data.n_profiles
        if self.forcing.n_sites == 1 and p > 1:
            self.forcing = self.forcing.subset(np.zeros(p, dtype=np.int64))
        obs = np.asarray(data.soc, dtype=float)
        self.overlap = torch.as_tensor(layer_overlap(data.top, data.bottom),
                                       dtype=torch.float64, device=dev)
        self.obs = torch.as_tensor(np.where(np.isnan(obs), 1.0, obs), dtype=torch.float64,
                                   device=dev)
        self.weight = torch.as_tensor(proda_clm5_weights(obs), dtype=torch.float64, device=dev)
        self.method = method

    def stocks(self, u: torch.Tensor, idx: torch.Tensor, lower: torch.Tensor,
               span: torch.Tensor) -> torch.Tensor:
        u = u.double().clamp(U_MARGIN, 1.0 - U_MARGIN)
        theta = lower + u * span
        x = clm5_steady_state_torch(theta, self.forcing.subset(idx), method=self.method)
        soc = x[:, 4:7].sum(dim=1)  # S1 + S2 + S3 [g C m⁻³]
        return 0.01 * torch.einsum("pln,pn->pl", self.overlap[idx], soc)  # Mg C ha⁻¹

    def cost(self, s: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        o = self.obs[idx]
        sd = PRODA_CLM5_RELATIVE_SD * o
        j = (self.weight[idx] * (s - o) ** 2 / (2.0 * sd**2)).sum(dim=-1)
        return j.mean()


def _check_space(net: ParameterNetwork) -> None:
    if tuple(net.space_.names) != CLM5_TORCH_PARAMETERS:
        raise InputDataError("end-to-end calibration needs CLM5's 21 parameters in the order "
                             f"of Tao et al. (EarthArXiv) Supplementary Table 1: "
                             f"{list(CLM5_TORCH_PARAMETERS)}",
                             field="space", value=list(net.space_.names))


def fit_end_to_end(
    data: Any,
    X: ArrayLike,
    *,
    covariate_names: Sequence[str] | None = None,
    network: ParameterNetwork | None = None,
    method: SolveMethod = "auto",
) -> ParameterNetwork:
    """Train the parameter network against observed SOC through CLM5's steady state (E1–E2).

    Parameters
    ----------
    data : ProfileData
        P profiles: observed layers (``top``, ``bottom`` [cm], ``soc`` [Mg C ha⁻¹]) and CLM5
        forcing (batch (P,)).
    X : array (P, c)
        Raw covariates of the profiles, in the order of ``data.profile_id``.
    covariate_names : sequence of str, optional
    network : ParameterNetwork, optional
        Unfitted network whose settings are used (architecture, batch size, epochs, patience,
        validation fraction, optimizer, members, seed, device); its ``loss`` is replaced by
        Eq. E2 and its ``output`` must be "sigmoid". Default: PRODA's settings.
    method : {"auto", "structured", "thomas", "dense"}
        Steady-state solve (:func:`clm5_steady_state_torch`).

    Returns
    -------
    ParameterNetwork
        Fitted (``loss == "e2e"``), usable like a two-step network (predict, predict_grid,
        save/load); ``history_`` has the train/validation cost per epoch and
        ``validation_ids_`` the held-out profiles of each member.
    """
    net = ParameterNetwork() if network is None else network
    net.loss = "e2e"
    net._check_settings()
    _check_space(net)
    if net.output != "sigmoid":
        raise InputDataError("end-to-end calibration needs output='sigmoid' (parameters must "
                             "stay inside the prior box)", field="output", value=net.output)
    X = np.asarray(X, dtype=float)
    p = data.n_profiles
    if X.ndim != 2 or X.shape[0] != p:
        raise InputDataError(f"X must have shape (P={p}, c)", field="X", value=X.shape)
    names = [f"x{j}" for j in range(X.shape[1])] if covariate_names is None else list(
        covariate_names)
    if not np.all(np.isfinite(X)):
        r = int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0])
        raise InputDataError(f"profile {data.profile_id[r]} has a missing covariate",
                             profile=data.profile_id[r], field="X")
    dev = _resolve_device(net.device)
    net.scaler_ = Scaler.fit(X, names)
    xs = torch.as_tensor(net.scaler_.transform(X), dtype=torch.float32, device=dev)
    batch = _Batch(data, dev, method)
    sp = net.space_
    lower = torch.as_tensor(np.array(sp.lower), dtype=torch.float64, device=dev)
    span = torch.as_tensor(np.array(sp.upper - sp.lower), dtype=torch.float64, device=dev)

    def batch_loss(model: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        return batch.cost(batch.stocks(model(xs[idx]), idx, lower, span), idx)

    net.members_, net.history_, net.validation_ids_ = [], [], []
    for k in range(int(net.n_members)):
        gen = np.random.default_rng([int(net.seed), k])
        tr, va = _split(p, net.validation_fraction, gen)
        if net.bootstrap and net.n_members > 1:
            tr = np.sort(gen.choice(tr, size=tr.size, replace=True))
        with _Seeded(int(net.seed) * 100_003 + k, dev):
            model = net._new_model(X.shape[1]).to(dev)
            fit = _train(model, batch_loss, torch.as_tensor(tr, device=dev),
                         torch.as_tensor(va, device=dev), batch_size=int(net.batch_size),
                         max_epochs=int(net.max_epochs), patience=int(net.patience),
                         optimizer=net.optimizer, learning_rate=net.learning_rate,
                         verbose=net.verbose)
        net.members_.append(fit.model)
        net.history_.append(net._record(fit))
        net.validation_ids_.append(np.asarray(data.profile_id)[va])
    net.training_ids_ = np.asarray(data.profile_id)
    from wholesoil.assimilation.proda._network import network_applicability

    net.applicability_ = network_applicability(X)
    return net


def predict_layer_stocks(
    network: ParameterNetwork,
    data: Any,
    X: ArrayLike,
    *,
    method: SolveMethod = "auto",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """CLM5 SOC of the observed layers at the ensemble-mean predicted parameters.

    Works for a two-step network (trained on calibrations) and an end-to-end one alike, so
    the two can be compared on the same held-out profiles.

    Parameters
    ----------
    network : ParameterNetwork
        Fitted, with CLM5's parameter space.
    data : ProfileData
    X : array (P, c)
        Raw covariates of ``data``'s profiles.

    Returns
    -------
    stocks : array (P, L) [Mg C ha⁻¹]
        NaN at padded layers.
    nse : array (P,)
        Nash–Sutcliffe efficiency of each profile (Tao et al. (EarthArXiv) Eq. 1).
    """
    _check_space(network)
    u = network.predict_unit(np.asarray(X, dtype=float)).mean(axis=0)
    if np.any(np.isnan(u)):
        r = int(np.flatnonzero(np.isnan(u).any(axis=1))[0])
        raise InputDataError(f"profile {data.profile_id[r]} has a missing covariate",
                             profile=data.profile_id[r], field="X")
    dev = torch.device("cpu")
    b = _Batch(data, dev, method)
    sp = network.space_
    with torch.no_grad():
        s = b.stocks(torch.as_tensor(u), torch.arange(data.n_profiles),
                     torch.as_tensor(np.array(sp.lower)),
                     torch.as_tensor(np.array(sp.upper - sp.lower))).numpy()
    s = np.where(np.isnan(data.soc), np.nan, s)
    return s, nse(s, data.soc)
