"""PRODA's parameter network: environmental covariates → calibrated parameters
(Tao et al. (EarthArXiv) §2.6).

A fully connected network maps the min–max scaled covariates of a site (Eq. S1 of
:mod:`._covariates`) to the unit coordinates u ∈ [0, 1]^d of the model's parameters (the prior
map of :class:`~wholesoil.assimilation.ParameterSpace`, θ = l + u·(h − l)). Tao et al. (EarthArXiv)
§2.6 and the public PRODA code (``phxtao/PRODA_PUBLIC``,
``SRC_NN/ensemble_neural_networking_*.py``):

* four hidden layers of 256, 512, 512 and 256 units, ReLU, dropout 0.2 after each (the paper;
  the public bootstrap script sets the dropout to 0), batch size 32, at most 6,000 epochs, the
  model with the lowest validation loss kept, early stopping after 1,200 epochs without
  improvement (the code's ``early_stop_patience``), 10 % of the training profiles held out for
  validation (Keras ``validation_split = 0.1`` in the code, which takes the *last* 10 % of the
  rows; here a seeded random 10 %);
* loss, ``loss="ratio_mse"``: the product of the ratio loss and the mean squared error,

  .. math::

      RL = \\frac{1}{N}\\sum_i \\left|\\frac{u_i - \\hat u_i}{u_i}\\right|,\\quad
      MSE = \\frac{1}{N}\\sum_i (u_i - \\hat u_i)^2,\\quad
      L = (500·MSE)·(25·RL)                                                          (N1)

  over the N = batch × d normalised parameters (Tao et al. (EarthArXiv) §2.6 defines L = RL × MSE;
  the public code's ``joint_loss`` multiplies the two by ``para_mse = 1000·0.5`` and
  ``para_ratio = 50·0.5``, a constant factor 12,500 kept here so that learning rates carry
  over). ``loss="mse"`` is the plain mean squared error (the code's alternative);
* optimizer: the paper and code use Adadelta (``optimizer="adadelta"``, learning rate 1.0 as in
  Zeiler 2012 and Keras 2.3; TF 2's Keras default is 0.001). The default here is Adam with
  learning rate 1e-3 (Kingma & Ba 2015's default), which reaches the same validation loss in far
  fewer epochs on our tests;
* output: the code's last layer is linear; here ``output="sigmoid"`` (default) keeps û in (0, 1)
  so every prediction is a valid parameter set (needed by the end-to-end variant, whose solver
  must see parameters in the model's domain); ``output="linear"`` trains PRODA's linear layer
  and clips predictions to [0, 1].

Only profiles whose calibration was accepted (mean R̂ ≤ 1.05 and NSE ≥ 0, the ``accepted``
column of the calibration's ``profiles`` table, Tao et al. (EarthArXiv) §2.6) are used:
:func:`accepted_targets`.

Uncertainty: PRODA trains 200 networks on bootstrap resamples of the profiles. ``n_members``
networks are trained here, member k on its own seeded 90/10 split with the training part
resampled with replacement (``bootstrap=True``; one member with ``bootstrap=False`` is the
"best guess" network). Predictions report the ensemble mean and standard deviation.

Reproducibility: every member draws its split, resample, initial weights, dropout masks and
batch order from ``seed + k`` inside :func:`torch.random.fork_rng` with deterministic algorithms
on, so the same seed gives the same network on the same device and thread count.

References
----------
Tao, F. et al. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation (Tao et al. (EarthArXiv)), §2.6.

Zeiler, M. D. (2012). ADADELTA: an adaptive learning rate method. arXiv:1212.5701.

Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.

Tao, F., Houlton, B. Z., Huang, Y., Wang, Y.-P., Manzoni, S., Ahrens, B., Mishra, U., Jiang, L.,
Huang, X. & Luo, Y. Convergence in simulating global soil organic carbon by structurally different
models after data assimilation. EarthArXiv preprint (not peer reviewed).
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from wholesoil._atomic import atomic_path, write_json
from wholesoil.assimilation._space import ParameterSpace
from wholesoil.assimilation.proda._covariates import (
    Scaler,
    grid_covariates,
    profile_covariates,
)
from wholesoil.errors import InputDataError

__all__ = [
    "PRODA_NETWORK_SETTINGS",
    "RATIO_MSE_FACTORS",
    "LossName",
    "ParameterNetwork",
    "accepted_targets",
    "mse_loss",
    "ratio_mse_loss",
]

FloatArray = NDArray[np.float64]
LossName = Literal["ratio_mse", "mse"]
OptimizerName = Literal["adam", "adadelta"]
OutputName = Literal["sigmoid", "linear"]

#: Tao et al. (EarthArXiv) §2.6 and the public PRODA code
#: (``SRC_NN/ensemble_neural_networking_bootstrap.py``).
PRODA_NETWORK_SETTINGS: dict[str, Any] = {
    "hidden": (256, 512, 512, 256),
    "dropout": 0.2,
    "batch_size": 32,
    "max_epochs": 6000,
    "patience": 1200,
    "validation_fraction": 0.1,
    "loss": "ratio_mse",
    "n_members": 200,
}

#: Constant factors of PRODA's ``joint_loss``: ``para_mse = 1000·0.5``, ``para_ratio = 50·0.5``.
RATIO_MSE_FACTORS: tuple[float, float] = (500.0, 25.0)

_LEARNING_RATES = {"adam": 1e-3, "adadelta": 1.0}


def ratio_mse_loss(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Eq. N1: (500·MSE)·(25·RL) over all entries; ``true`` must be > 0."""
    mse = torch.mean((true - pred) ** 2)
    rl = torch.mean(torch.abs((true - pred) / true))
    return (RATIO_MSE_FACTORS[0] * mse) * (RATIO_MSE_FACTORS[1] * rl)


def mse_loss(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all entries."""
    return torch.mean((true - pred) ** 2)


_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "ratio_mse": ratio_mse_loss,
    "mse": mse_loss,
}


class _MLP(nn.Module):
    """Linear → ReLU → Dropout for each hidden layer, then Linear (→ sigmoid)."""

    def __init__(self, n_in: int, n_out: int, hidden: Sequence[int], dropout: float,
                 output: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        last = n_in
        for h in hidden:
            layers += [nn.Linear(last, int(h)), nn.ReLU(), nn.Dropout(dropout)]
            last = int(h)
        layers.append(nn.Linear(last, n_out))
        self.body = nn.Sequential(*layers)
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.body(x)
        return torch.sigmoid(z) if self.output == "sigmoid" else z


def _resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class _Fit:
    model: nn.Module
    history: dict[str, list[float]]
    best_epoch: int
    seconds: float


def _train(
    model: nn.Module,
    batch_loss: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    train_idx: torch.Tensor,
    val_idx: torch.Tensor,
    *,
    batch_size: int,
    max_epochs: int,
    patience: int,
    optimizer: str,
    learning_rate: float | None,
    verbose: bool = False,
) -> _Fit:
    """Mini-batch training with early stopping on ``val_idx``; the best model is returned.

    ``batch_loss(model, idx)`` gives the loss of the rows ``idx``; the validation loss is that of
    all of ``val_idx`` in evaluation mode (no dropout). Uses the ambient torch RNG.
    """
    lr = _LEARNING_RATES[optimizer] if learning_rate is None else float(learning_rate)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    elif optimizer == "adadelta":
        opt = torch.optim.Adadelta(model.parameters(), lr=lr)
    else:
        raise InputDataError("optimizer must be 'adam' or 'adadelta'", field="optimizer",
                             value=optimizer)
    best = float("inf")
    best_state = copy.deepcopy(model.state_dict())
    best_epoch = -1
    history: dict[str, list[float]] = {"train": [], "validation": []}
    t0 = time.perf_counter()
    n = int(train_idx.numel())
    for epoch in range(int(max_epochs)):
        model.train()
        perm = train_idx[torch.randperm(n, device=train_idx.device)]
        total = 0.0
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = batch_loss(model, idx)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        model.eval()
        with torch.no_grad():
            val = float(batch_loss(model, val_idx)) if val_idx.numel() else total / n
        history["train"].append(total / n)
        history["validation"].append(val)
        if verbose:
            print(f"epoch {epoch}: train {total / n:.6g}, validation {val:.6g}")
        if val < best:
            best, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return _Fit(model, history, best_epoch, time.perf_counter() - t0)


def _split(n: int, fraction: float, gen: np.random.Generator) -> tuple[NDArray, NDArray]:
    n_val = round(fraction * n) if fraction > 0 else 0
    if fraction > 0 and n_val == 0 and n >= 2:
        n_val = 1
    perm = gen.permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class _Seeded:
    """Context: torch RNG forked and seeded, deterministic algorithms on; restored on exit."""

    def __init__(self, seed: int, device: torch.device) -> None:
        self.seed = int(seed)
        self.devices = [device.index or 0] if device.type == "cuda" else []

    def __enter__(self) -> None:
        self._fork = torch.random.fork_rng(devices=self.devices)
        self._fork.__enter__()
        torch.manual_seed(self.seed)
        self._det = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(True, warn_only=True)

    def __exit__(self, *exc: Any) -> None:
        torch.use_deterministic_algorithms(self._det)
        self._fork.__exit__(*exc)


def accepted_targets(
    parameters: pd.DataFrame | str | os.PathLike[str] | Any,
    profiles: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    statistic: str = "mean",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibrated parameters of the accepted profiles, one row per profile.

    Parameters
    ----------
    parameters : DataFrame, CSV path or CalibrationResult
        Long table ``profile_id, parameter, <statistic>`` (``tables/parameters.csv`` of the
        assimilate job, :attr:`CalibrationResult.parameters`). A CalibrationResult brings its
        own profiles table.
    profiles : DataFrame or CSV path
        ``profile_id, accepted`` (``tables/profiles.csv``); only profiles with ``accepted`` true
        (mean R̂ ≤ 1.05 and NSE ≥ 0, Tao et al. (EarthArXiv) §2.6) are kept.
    statistic : str
        Column of the point estimate: ``"mean"`` (PRODA's), ``"median"`` or ``"mode"``.

    Returns
    -------
    targets : DataFrame
        Index ``profile_id``, one column per parameter (parameter units).
    excluded : DataFrame
        ``profile_id, reason`` of the calibrated profiles left out (not accepted).

    Raises
    ------
    InputDataError
        Missing columns, a non-boolean ``accepted`` column, an accepted profile without a
        parameter value, or no accepted profile at all.
    """
    if hasattr(parameters, "parameters") and hasattr(parameters, "profiles"):
        parameters, profiles = parameters.parameters, parameters.profiles
    src_p = str(parameters) if not isinstance(parameters, pd.DataFrame) else None
    src_q = str(profiles) if profiles is not None and not isinstance(
        profiles, pd.DataFrame) else None
    par = parameters if isinstance(parameters, pd.DataFrame) else pd.read_csv(parameters)
    if profiles is None:
        raise InputDataError("the profiles table (with the 'accepted' column) is needed",
                             field="profiles")
    prof = profiles if isinstance(profiles, pd.DataFrame) else pd.read_csv(profiles)
    for df, cols, src in ((par, ("profile_id", "parameter", statistic), src_p),
                          (prof, ("profile_id", "accepted"), src_q)):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputDataError(f"table lacks column(s) {missing}; it has {list(df.columns)}",
                                 file=src, field=missing[0])
    acc = prof["accepted"]
    if acc.dtype != bool:
        mapped = acc.astype(str).str.strip().str.lower().map(
            {"true": True, "false": False, "1": True, "0": False})
        if mapped.isna().any():
            i = int(np.flatnonzero(mapped.isna().to_numpy())[0])
            raise InputDataError("expected true/false", file=src_q, row=i + 2,
                                 field="accepted", value=acc.iloc[i])
        acc = mapped.astype(bool)
    keep_ids = prof.loc[acc.to_numpy(), "profile_id"]
    reason = prof["reason"] if "reason" in prof.columns else pd.Series("", index=prof.index)
    excluded = pd.DataFrame({"profile_id": prof.loc[~acc.to_numpy(), "profile_id"],
                             "reason": reason[~acc.to_numpy()].astype(str)})
    if keep_ids.empty:
        raise InputDataError("no profile passed the R-hat and NSE filters (accepted = false "
                             "everywhere): nothing to train on", file=src_q, field="accepted")
    wide = par.pivot_table(index="profile_id", columns="parameter", values=statistic,
                           aggfunc="first", sort=False)
    wide = wide.reindex(pd.Index(keep_ids.to_numpy(), name="profile_id"))
    bad = wide.isna().any(axis=1)
    if bad.any():
        raise InputDataError(
            f"accepted profile(s) without a value of every parameter: "
            f"{list(wide.index[bad])[:10]}", file=src_p, field=statistic)
    wide.columns.name = None
    return wide, excluded.reset_index(drop=True)


def _space_to_dict(space: ParameterSpace) -> dict[str, Any]:
    return {"names": list(space.names), "lower": space.lower.tolist(),
            "upper": space.upper.tolist(), "defaults": space.defaults.tolist(),
            "open_lower": space.open_lower.tolist(), "open_upper": space.open_upper.tolist(),
            "log": space.log.tolist()}


def _space_from_dict(d: dict[str, Any]) -> ParameterSpace:
    defaults = [np.nan if v is None else v for v in d["defaults"]]
    return ParameterSpace(d["names"], d["lower"], d["upper"], defaults,
                          open_lower=d["open_lower"], open_upper=d["open_upper"],
                          log=d.get("log"))


class ParameterNetwork:
    """PRODA's network (Tao et al. (EarthArXiv) §2.6) as an estimator, with a bootstrap ensemble.

    Parameters
    ----------
    space : ParameterSpace, optional
        Parameters predicted and their prior map; default ``ParameterSpace.from_clm5()``.
    hidden : sequence of int, default (256, 512, 512, 256)
    dropout : float, default 0.2
    batch_size : int, default 32
    max_epochs : int, default 6000
    patience : int, default 1200
        Epochs without a better validation loss before stopping.
    validation_fraction : float, default 0.1
    loss : {"ratio_mse", "mse"}
        Eq. N1 (PRODA) or the plain MSE.
    optimizer : {"adam", "adadelta"}
    learning_rate : float, optional
        Default 1e-3 for Adam, 1.0 for Adadelta.
    output : {"sigmoid", "linear"}
    n_members : int, default 1
    bootstrap : bool, default True
        Resample the training profiles with replacement for each member when n_members > 1.
    seed : int, default 0
    device : str, default "auto"
        "auto" = CUDA when available, else CPU.
    verbose : bool

    Attributes (after fit)
    ----------------------
    scaler_ : Scaler
    members_ : list of torch.nn.Module
    history_ : list of dict
        Per member: ``train`` and ``validation`` loss per epoch, ``best_epoch``, ``seconds``,
        ``seconds_per_epoch``.
    training_ids_ : array
        Profiles trained on (when fitted from tables).
    """

    def __init__(
        self,
        space: ParameterSpace | None = None,
        *,
        hidden: Sequence[int] = PRODA_NETWORK_SETTINGS["hidden"],
        dropout: float = PRODA_NETWORK_SETTINGS["dropout"],
        batch_size: int = PRODA_NETWORK_SETTINGS["batch_size"],
        max_epochs: int = PRODA_NETWORK_SETTINGS["max_epochs"],
        patience: int = PRODA_NETWORK_SETTINGS["patience"],
        validation_fraction: float = PRODA_NETWORK_SETTINGS["validation_fraction"],
        loss: LossName = "ratio_mse",
        optimizer: OptimizerName = "adam",
        learning_rate: float | None = None,
        output: OutputName = "sigmoid",
        n_members: int = 1,
        bootstrap: bool = True,
        seed: int = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.space = space
        self.hidden = tuple(int(h) for h in hidden)
        self.dropout = dropout
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.output = output
        self.n_members = n_members
        self.bootstrap = bootstrap
        self.seed = seed
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ settings
    @property
    def space_(self) -> ParameterSpace:
        return ParameterSpace.from_clm5() if self.space is None else self.space

    def _settings(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "hidden", "dropout", "batch_size", "max_epochs", "patience", "validation_fraction",
            "loss", "optimizer", "learning_rate", "output", "n_members", "bootstrap", "seed",
            "device")}

    def _check_settings(self) -> None:
        if self.loss not in _LOSSES and self.loss != "e2e":
            raise InputDataError(f"loss must be one of {sorted(_LOSSES)}", field="loss",
                                 value=self.loss)
        if self.output not in ("sigmoid", "linear"):
            raise InputDataError("output must be 'sigmoid' or 'linear'", field="output",
                                 value=self.output)
        if not (0 <= self.dropout < 1):
            raise InputDataError("dropout must be in [0, 1)", field="dropout", value=self.dropout)
        if not (0 <= self.validation_fraction < 1):
            raise InputDataError("validation_fraction must be in [0, 1)",
                                 field="validation_fraction", value=self.validation_fraction)
        for name in ("batch_size", "max_epochs", "n_members"):
            if int(getattr(self, name)) < 1:
                raise InputDataError(f"{name} must be >= 1", field=name,
                                     value=getattr(self, name))

    def _new_model(self, n_in: int) -> nn.Module:
        return _MLP(n_in, self.space_.n_params, self.hidden, self.dropout, self.output)

    # ------------------------------------------------------------------ fitting
    def fit(self, X: ArrayLike, U: ArrayLike, *,
            covariate_names: Sequence[str] | None = None,
            groups: ArrayLike | None = None) -> ParameterNetwork:
        """Train on raw covariates ``X`` (n, c) and unit-coordinate targets ``U`` (n, d).

        Also fits the network's area of applicability (``applicability_``,
        :func:`network_applicability`) on the training covariates, with cross-validation folds
        grouped by ``groups`` (e.g. site; default: rows with identical covariates form a group,
        as profiles of one grid cell do when covariates are sampled from a grid).

        Returns
        -------
        self
        """
        self._check_settings()
        X = np.asarray(X, dtype=float)
        U = np.asarray(U, dtype=float)
        d = self.space_.n_params
        if X.ndim != 2 or U.shape != (X.shape[0], d):
            raise InputDataError(f"expected X (n, c) and U (n, {d}) with the same n",
                                 field="U", value=(X.shape, U.shape))
        names = [f"x{j}" for j in range(X.shape[1])] if covariate_names is None else list(
            covariate_names)
        if not np.all(np.isfinite(U)) or np.any((U < 0) | (U > 1)):
            raise InputDataError("targets must be unit coordinates in [0, 1] (map the "
                                 "parameters with ParameterSpace.to_unit)", field="U")
        if self.loss == "ratio_mse" and np.any(U <= 0):
            j = int(np.flatnonzero(np.any(U <= 0, axis=0))[0])
            raise InputDataError("the ratio loss divides by the target, which must be > 0 "
                                 "(use loss='mse')", field=self.space_.names[j], value=0.0)
        if X.shape[0] < 2:
            raise InputDataError("need at least two training profiles", field="X",
                                 value=X.shape[0])
        self.scaler_ = Scaler.fit(X, names)
        dev = _resolve_device(self.device)
        xs = torch.as_tensor(self.scaler_.transform(X), dtype=torch.float32, device=dev)
        ys = torch.as_tensor(U, dtype=torch.float32, device=dev)
        loss_fn = _LOSSES[self.loss]

        def batch_loss(model: nn.Module, idx: torch.Tensor) -> torch.Tensor:
            return loss_fn(model(xs[idx]), ys[idx])

        self.members_, self.history_ = [], []
        for k in range(int(self.n_members)):
            fit = self._fit_member(k, X.shape[0], X.shape[1], batch_loss, dev)
            self.members_.append(fit.model)
            self.history_.append(self._record(fit))
        self.applicability_ = network_applicability(X, groups)
        return self

    def _fit_member(self, k: int, n: int, n_in: int, batch_loss: Callable, dev: torch.device
                    ) -> _Fit:
        gen = np.random.default_rng([int(self.seed), k])
        tr, va = _split(n, self.validation_fraction, gen)
        if self.bootstrap and self.n_members > 1:
            tr = np.sort(gen.choice(tr, size=tr.size, replace=True))
        with _Seeded(int(self.seed) * 100_003 + k, dev):
            model = self._new_model(n_in).to(dev)
            return _train(
                model, batch_loss, torch.as_tensor(tr, device=dev),
                torch.as_tensor(va, device=dev), batch_size=int(self.batch_size),
                max_epochs=int(self.max_epochs), patience=int(self.patience),
                optimizer=self.optimizer, learning_rate=self.learning_rate,
                verbose=self.verbose,
            )

    @staticmethod
    def _record(fit: _Fit) -> dict[str, Any]:
        n_ep = len(fit.history["train"])
        return {**fit.history, "best_epoch": fit.best_epoch, "seconds": fit.seconds,
                "epochs": n_ep, "seconds_per_epoch": fit.seconds / max(n_ep, 1)}

    def fit_calibrations(
        self,
        parameters: Any,
        sites: pd.DataFrame,
        covariates: Sequence[str],
        *,
        profiles: Any = None,
        statistic: str = "mean",
        source: str | None = None,
    ) -> ParameterNetwork:
        """Train on per-profile calibrations (accepted profiles only) and site covariates.

        Parameters
        ----------
        parameters, profiles :
            As for :func:`accepted_targets` (a CalibrationResult, DataFrames or CSV paths).
        sites : DataFrame
            ``profile_id`` and the covariate columns.
        covariates : sequence of str
        statistic : str
            Point estimate column, PRODA's posterior ``"mean"`` by default.
        source : str, optional
            Name of the covariate file for messages.

        Returns
        -------
        self
            With ``training_ids_`` and ``excluded_`` (profiles not accepted, with reasons).
        """
        targets, excluded = accepted_targets(parameters, profiles, statistic=statistic)
        sp = self.space_
        missing = [n for n in sp.names if n not in targets.columns]
        if missing:
            raise InputDataError(f"calibrations lack parameter(s) {missing} of the space",
                                 field="parameter", value=missing[0])
        ids, X = profile_covariates(sites, covariates, profile_ids=targets.index.to_numpy(),
                                    source=source)
        U = sp.to_unit(targets.loc[ids, list(sp.names)].to_numpy(dtype=float))
        self.fit(X, U, covariate_names=covariates)
        self.training_ids_ = ids
        self.excluded_ = excluded
        return self

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise InputDataError("the network is not fitted; call fit() or load() first",
                                 field="network")

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """Covariates the network needs, in order."""
        self._check_fitted()
        return self.scaler_.names

    def predict_unit(self, X: ArrayLike, *, batch_size: int = 65_536) -> FloatArray:
        """Unit coordinates of every member (members, n, d) for raw covariates X (n, c).

        Rows with a non-finite covariate give NaN. Batched through each network.
        """
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        xs = self.scaler_.transform(X)
        ok = np.all(np.isfinite(xs), axis=-1)
        out = np.full((len(self.members_), X.shape[0], self.space_.n_params), np.nan)
        dev = next(self.members_[0].parameters()).device
        rows = np.flatnonzero(ok)
        with torch.no_grad():
            for s in range(0, rows.size, batch_size):
                r = rows[s:s + batch_size]
                xb = torch.as_tensor(xs[r], dtype=torch.float32, device=dev)
                for k, m in enumerate(self.members_):
                    out[k, r] = m(xb).double().cpu().numpy()
        return np.clip(out, 0.0, 1.0)

    def predict(self, X: ArrayLike, *, batch_size: int = 65_536) -> tuple[FloatArray, FloatArray]:
        """Ensemble mean and standard deviation of the parameters (n, d), in parameter units.

        Rows are processed in blocks of ``batch_size``: memory is bounded by one block times
        the number of members, whatever the number of rows.
        """
        self._check_fitted()
        X = np.asarray(X, dtype=float)
        n, d = X.shape[0], self.space_.n_params
        mean = np.full((n, d), np.nan)
        sd = np.full((n, d), np.nan)
        for s in range(0, n, batch_size):
            u = self.predict_unit(X[s:s + batch_size], batch_size=batch_size)
            theta = self.space_.theta(u)  # (members, rows, d); log-scaled priors by Eq. 2
            mean[s:s + batch_size] = theta.mean(axis=0)
            sd[s:s + batch_size] = theta.std(axis=0, ddof=1) if u.shape[0] > 1 else np.where(
                np.isnan(u[0]), np.nan, 0.0)
        return mean, sd

    def predict_table(self, sites: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
        """Parameters of every row of ``sites`` (``profile_id`` + covariates).

        Returns a table ``profile_id, <parameter>…, <parameter>_sd…``; a site with a missing
        covariate is an error naming it (:func:`profile_covariates`).
        """
        ids, X = profile_covariates(sites, self.covariate_names, source=source)
        mean, sd = self.predict(X)
        names = self.space_.names
        out = pd.DataFrame(mean, columns=list(names))
        out = pd.concat([out, pd.DataFrame(sd, columns=[f"{n}_sd" for n in names])], axis=1)
        out.insert(0, "profile_id", ids)
        return out

    def predict_grid(self, ds: Any, *, block_cells: int = 65_536,
                     source: str = "grid") -> Any:
        """Parameter maps on a covariate grid, blockwise: ``<name>`` and ``<name>_sd``.

        Cells with any NaN covariate are NaN. Blocks of ``block_cells`` cells go through the
        networks one after another (memory bounded by the block).

        Returns
        -------
        xarray.Dataset
            On the grid's spatial dims and coordinates, with ``units`` from the parameter table.
        """
        import xarray as xr

        self._check_fitted()
        X, valid, shape, dims = grid_covariates(ds, self.covariate_names, source=source)
        mean, sd = self.predict(np.where(valid[:, None], X, np.nan), batch_size=block_cells)
        first = ds[self.covariate_names[0]]
        coords = {d: first.coords[d] for d in dims if d in first.coords}
        if "spatial_ref" in ds.coords:
            coords["spatial_ref"] = ds.coords["spatial_ref"]
        units = _units(self.space_.names)
        data = {}
        for j, n in enumerate(self.space_.names):
            attrs = {"units": units.get(n, "-"), "long_name": f"PRODA-predicted {n}"}
            data[n] = (dims, mean[:, j].reshape(shape), attrs)
            data[f"{n}_sd"] = (dims, sd[:, j].reshape(shape),
                               {**attrs, "long_name": f"ensemble sd of {n}"})
        return xr.Dataset(data, coords=coords,
                          attrs={"source": "wholesoil.assimilation.proda.ParameterNetwork",
                                 "members": len(self.members_)})

    def applicability_grid(self, ds: Any, *, source: str = "grid") -> Any:
        """Dissimilarity index and area of applicability on a covariate grid (Meyer & Pebesma
        (2021); :class:`wholesoil.mapping.AreaOfApplicability`): ``dissimilarity`` (DI, -)
        and ``inside_aoa`` (1 inside, 0 outside or a covariate missing), with the threshold in
        the attributes. Outside the AOA the network extrapolates: its parameters there are
        not supported by any training profile's covariates."""
        import xarray as xr

        self._check_fitted()
        aoa = getattr(self, "applicability_", None)
        if aoa is None:
            raise InputDataError("this network has no area of applicability (saved by an "
                                 "older wholesoil, or fitted on fewer than 2 distinct covariate "
                                 "rows); retrain it to get one", field="applicability")
        X, valid, shape, dims = grid_covariates(ds, self.covariate_names, source=source)
        di = aoa.dissimilarity(np.where(valid[:, None], X, np.nan)[:, aoa_columns(aoa, X)])
        first = ds[self.covariate_names[0]]
        coords = {d: first.coords[d] for d in dims if d in first.coords}
        inside = np.isfinite(di) & (di <= aoa.threshold_)
        attrs = {"threshold": aoa.threshold_, "mean_training_distance": aoa.mean_distance_,
                 "reference": "Meyer & Pebesma (2021) Methods Ecol. Evol. 12:1620, "
                              "doi:10.1111/2041-210X.13650"}
        return xr.Dataset(
            {"dissimilarity": (dims, di.reshape(shape), {
                "units": "-", "long_name": "dissimilarity index of the covariates to the "
                "network's training data"}),
             "inside_aoa": (dims, inside.reshape(shape).astype("int8"), {
                 "units": "-", "long_name": "1: inside the network's area of applicability"})},
            coords=coords, attrs=attrs)

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``member_<k>.pt`` (state dicts) and ``network.json`` (metadata) atomically."""
        self._check_fitted()
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for k, m in enumerate(self.members_):
            with atomic_path(out / f"member_{k}.pt") as tmp:
                torch.save({n: t.detach().cpu() for n, t in m.state_dict().items()}, tmp)
        meta = {
            "format": "wholesoil.proda.network/1",
            "settings": self._settings(),
            "space": _space_to_dict(self.space_),
            "parameters": list(self.space_.names),
            "covariates": list(self.scaler_.names),
            "scaler": self.scaler_.to_dict(),
            "n_members": len(self.members_),
            "history": [{k: v for k, v in h.items() if k not in ("train", "validation")}
                        for h in self.history_],
            "torch": torch.__version__,
        }
        aoa = getattr(self, "applicability_", None)
        if aoa is not None:
            with atomic_path(out / "applicability.npz") as tmp, open(tmp, "wb") as fh:
                np.savez(fh, columns=aoa_columns(aoa, np.empty((0, len(self.scaler_.names)))),
                         **aoa.to_arrays())
        write_json(out / "network.json", meta)
        return out

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, device: str = "auto") -> ParameterNetwork:
        """Read a network written by :meth:`save`."""
        path = Path(folder) / "network.json"
        if not path.exists():
            raise InputDataError("no network.json in the model folder", file=str(folder))
        with open(path, encoding="utf-8") as fh:
            meta = json.load(fh)
        s = dict(meta["settings"])
        s["device"] = device
        net = cls(_space_from_dict(meta["space"]), **s)
        net.scaler_ = Scaler.from_dict(meta["scaler"])
        dev = _resolve_device(device)
        net.members_ = []
        for k in range(int(meta["n_members"])):
            f = Path(folder) / f"member_{k}.pt"
            if not f.exists():
                raise InputDataError(f"member file {f.name} is missing", file=str(folder))
            m = net._new_model(len(net.scaler_.names))
            m.load_state_dict(torch.load(f, map_location="cpu", weights_only=True))
            net.members_.append(m.to(dev).eval())
        net.history_ = meta.get("history", [])
        f = Path(folder) / "applicability.npz"
        net.applicability_ = None
        if f.exists():
            from wholesoil.mapping._applicability import AreaOfApplicability

            with np.load(f, allow_pickle=False) as a:
                net.applicability_ = AreaOfApplicability.from_arrays(a)
                net.applicability_.columns_ = np.asarray(a["columns"], int)
        return net


#: Folds of the applicability threshold (Meyer & Pebesma 2021 use the model's CV folds; the
#: network's validation is a 10-fold CV grouped by site).
AOA_FOLDS = 10


def network_applicability(X: ArrayLike, groups: ArrayLike | None = None) -> Any:
    """Area of applicability of a network trained on covariates ``X`` (n, c): Meyer & Pebesma
    (2021) with equal covariate weights, on the finite rows and the covariates that vary,
    its threshold from :data:`AOA_FOLDS` folds grouped by ``groups`` (default: identical
    covariate rows, so that profiles sharing a grid cell never stand in for each other).
    None when fewer than 2 distinct groups remain."""
    from sklearn.model_selection import GroupKFold

    from wholesoil.mapping._applicability import AreaOfApplicability

    X = np.asarray(X, float)
    ok = np.all(np.isfinite(X), axis=1)
    cols = np.flatnonzero(np.nanstd(np.where(ok[:, None], X, np.nan), axis=0) > 0)
    Xo = X[ok][:, cols]
    if groups is None:
        g = np.unique(Xo, axis=0, return_inverse=True)[1].ravel()
    else:
        g = np.unique(np.asarray(groups)[ok], return_inverse=True)[1].ravel()
    k = min(AOA_FOLDS, int(np.unique(g).size))
    if k < 2 or cols.size == 0:
        return None
    folds = np.empty(g.size, int)
    for f, (_, te) in enumerate(GroupKFold(n_splits=k).split(Xo, groups=g)):
        folds[te] = f
    aoa = AreaOfApplicability().fit(Xo, folds=folds)
    aoa.columns_ = cols
    return aoa


def aoa_columns(aoa: Any, X: np.ndarray) -> np.ndarray:
    """Indices of the covariates the applicability was fitted on (all when unrecorded)."""
    cols = getattr(aoa, "columns_", None)
    return np.arange(X.shape[1]) if cols is None else np.asarray(cols, int)


def _units(names: Sequence[str]) -> dict[str, str]:
    from wholesoil.models import CLM5_PRODA_PARAMETERS

    out = {n: p.unit for n, p in CLM5_PRODA_PARAMETERS.items()}
    try:
        from wholesoil.models import COMPAS_PARAMETERS

        for n, p in COMPAS_PARAMETERS.items():
            out.setdefault(n, getattr(p, "unit", "-"))
    except ImportError:  # pragma: no cover
        pass
    return {n: out.get(n, "-") for n in names}
