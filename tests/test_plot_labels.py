"""Issue 24 item 5: every axis a quantity with a unit, every parameter code with a key."""

from __future__ import annotations

import numpy as np
import pandas as pd

from wholesoil.plots._style import axis_label
from wholesoil.plots.assimilation import plot_posteriors
from wholesoil.plots.mapping import plot_depth_skill, plot_importance, plot_partial_dependence


def test_axis_label_table_and_unknown_names() -> None:
    assert axis_label("mat") == "MAT [°C]"
    assert axis_label("map") == "MAP [mm yr⁻¹]"
    assert axis_label("top") == axis_label("bottom") == "depth [cm]"
    assert axis_label("beta") == "β [-]"
    assert axis_label("soc_density") == "SOC density [Mg C ha⁻¹]"
    assert axis_label("my_covariate") == "my_covariate"


def _pd_table() -> pd.DataFrame:
    grid = np.linspace(0, 1, 5)
    return pd.concat([pd.DataFrame({"feature": f, "value": grid, "average": grid})
                      for f in ("mat", "map", "my_covariate")])


def test_partial_dependence_axes_have_units() -> None:
    fig = plot_partial_dependence(_pd_table(), ylabel="beta")
    xlabels = [ax.get_xlabel() for ax in fig.axes if ax.get_visible()]
    assert xlabels == ["MAT [°C]", "MAP [mm yr⁻¹]", "my_covariate"]
    assert fig.axes[0].get_ylabel() == "β [-]"


def test_importance_names_drivers_with_units() -> None:
    t = pd.DataFrame({"feature": ["mat", "map"], "importance_mean": [2.0, 1.0],
                      "importance_sd": [0.1, 0.1], "baseline_mse": [1.0, 1.0],
                      "pct_inc_mse": [200.0, 100.0]})
    ax = plot_importance(t).axes[0]
    assert [tl.get_text() for tl in ax.get_yticklabels()] == ["MAT [°C]", "MAP [mm yr⁻¹]"]


def test_skill_by_depth_axis_is_a_quantity_with_a_unit() -> None:
    t = pd.DataFrame({"top": [0, 30], "bottom": [30, 100], "band": ["0-30", "30-100"],
                      "n": [10, 8], "r2": [0.5, 0.3], "rmse": [0.2, 0.1]})
    fig = plot_depth_skill(t, label="soc_density_per_cm")
    assert fig.axes[0].get_xlabel() == "R² [-]"
    assert fig.axes[1].get_xlabel() == "RMSE [Mg C ha⁻¹ cm⁻¹]"
    assert "soc_density_per_cm" not in fig.texts[0].get_text()


def test_posterior_figure_has_a_key_of_clm5_codes() -> None:
    rng = np.random.default_rng(0)
    bounds = {"fs3s1": (0.0, 0.05), "tau4s2": (1.0, 20.0), "mystery": (0.0, 1.0)}
    samples = {k: rng.uniform(lo, hi, 100) for k, (lo, hi) in bounds.items()}
    for show in ("unit", "physical"):
        fig = plot_posteriors(samples, bounds, show=show)
        text = "\n".join(t.get_text() for t in fig.texts)
        assert "fs3s1: transfer fraction, active (fast) SOC to passive SOC [-]" in text
        assert "tau4s2: " in text and "mystery" in text
    fig = plot_posteriors(samples, bounds, key={"mystery": "a thing [m]"})
    assert "mystery: a thing [m]" in "\n".join(t.get_text() for t in fig.texts)
