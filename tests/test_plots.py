"""Figures follow the field's conventions: depth downward, 1:1 line with skill, priors, maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from wholesoil.errors import InputDataError
from wholesoil.plots import (
    land_fraction_on,
    plot_depth_curves,
    plot_depth_functions,
    plot_map,
    plot_observed_predicted,
    plot_posteriors,
    plot_profiles,
    plot_skill_by_depth,
)


def _inverted(ax) -> bool:
    lo, hi = ax.get_ylim()
    return lo > hi


def test_profile_plots_put_depth_downward() -> None:
    h = pd.DataFrame({"profile_id": ["a", "a", "b"], "top": [0, 10, 0], "bottom": [10, 30, 20],
                      "soc": [20.0, 5.0, 8.0]})
    fig = plot_profiles(h, "soc")
    assert all(_inverted(ax) for ax in fig.axes)  # shared y: every panel
    obs = pd.DataFrame({"profile_id": ["a", "a"], "depth": [10, 30], "cumulative": [5.0, 9.0]})
    fig = plot_depth_functions(obs, {"beta": obs}, profile_ids=["a"])
    assert _inverted(fig.axes[0])


def test_depth_curves_downward_with_bands_and_points() -> None:
    d = np.linspace(0, 100, 11)
    fig = plot_depth_curves(d, {"mean": 10 - 0.05 * d}, bands={"mean": (9 - 0.05 * d,
                                                                           11 - 0.05 * d)},
                            observed=(np.array([9.5, 6.0]), np.array([10.0, 80.0])),
                            xlabel="SOC [g C kg⁻¹]")
    ax = fig.axes[0]
    assert _inverted(ax)
    assert ax.get_ylabel() == "depth [cm]"
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["mean", "mean interval", "observed"]
    with pytest.raises(InputDataError, match="curve 'bad' has shape"):
        plot_depth_curves(d, {"bad": np.ones(3)}, xlabel="x")


def test_observed_predicted_one_to_one_and_skill_in_panel() -> None:
    # closed form: SSE = 1, SST = Σ(y − 2.5)² = 5, so R² = 1 − 1/5 = 0.8 (Wang H. et al. (2025) Eq. 4) and
    # RMSE = √(1/4) = 0.5 (Eq. 5); the NaN pair is not counted (n = 4)
    obs = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    pred = np.array([1.0, 2.0, 3.0, 5.0, 2.0])
    fig = plot_observed_predicted(obs, pred, label="SOC", units="g kg⁻¹")
    ax = fig.axes[0]
    (one,) = [ln for ln in ax.get_lines() if ln.get_label() == "1:1"]
    x, y = one.get_data()
    np.testing.assert_array_equal(x, y)  # slope 1 through the origin
    assert ax.get_xlim() == ax.get_ylim()
    (txt,) = [t for t in ax.texts if t.get_gid() == "skill"]
    assert txt.get_text() == "R² = 0.800\nRMSE = 0.5 g kg⁻¹\nn = 4"
    assert ax.get_xlabel() == "observed SOC [g kg⁻¹]"
    # given skill (e.g. cross-validated) is printed as given, as before
    fig = plot_observed_predicted(obs, pred, label="β", r2=0.5, rmse=2.0)
    (txt,) = [t for t in fig.axes[0].texts if t.get_gid() == "skill"]
    assert txt.get_text().startswith("R² = 0.500\nRMSE = 2\n")
    with pytest.raises(InputDataError, match="pair one to one"):
        plot_observed_predicted(obs, pred[:3], label="x")


def test_skill_by_depth_downward_one_line_per_model() -> None:
    t = pd.DataFrame({"top": [0, 30, 0, 30], "bottom": [30, 100, 30, 100],
                      "r2": [0.6, 0.3, 0.5, -0.2], "rmse": [5.0, 3.0, 6.0, 4.0],
                      "model": ["rf", "rf", "qrf", "qrf"]})
    fig = plot_skill_by_depth(t, group="model", units="Mg C ha⁻¹")
    a0, a1 = fig.axes
    assert _inverted(a0) and _inverted(a1)
    lines = [ln for ln in a0.get_lines() if ln.get_marker() == "o"]
    assert [ln.get_label() for ln in lines] == ["rf", "qrf"]  # one line per model
    assert a0.get_xlim()[1] == 1.0 and a0.get_xlim()[0] <= -0.2
    assert a1.get_xlabel() == "RMSE [Mg C ha⁻¹]"
    np.testing.assert_array_equal(lines[0].get_ydata(), [15.0, 65.0])  # band midpoints
    with pytest.raises(InputDataError, match=r"lacks columns \['bias'\]"):
        plot_skill_by_depth(t, metrics=("bias",))


def test_posteriors_unit_space_against_prior() -> None:
    rng = np.random.default_rng(0)
    bounds = {"tau": (1.0, 11.0), "q10": (1.2, 3.0)}
    phys = {"tau": rng.normal(4.0, 0.5, 400), "q10": rng.uniform(1.2, 3.0, 400)}
    fig = plot_posteriors(phys, bounds, space="physical", show="unit", truth={"tau": 4.0,
                                                                              "q10": 2.0})
    (ax,) = fig.axes
    priors = [c for c in ax.collections if str(c.get_gid()).startswith("prior:")]
    posts = [c for c in ax.collections if str(c.get_gid()).startswith("posterior:")]
    assert [c.get_gid() for c in priors] == ["prior:tau", "prior:q10"]
    assert [c.get_gid() for c in posts] == ["posterior:tau", "posterior:q10"]
    # prior band spans the unit interval; the median marker sits at u = (θ − l)/(h − l)
    ys = priors[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == 0.0 and ys.max() == 1.0
    medians = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert medians[0].get_ydata()[0] == pytest.approx((np.median(phys["tau"]) - 1.0) / 10.0)
    truth = [ln for ln in ax.get_lines() if ln.get_color() == "tab:red"]
    assert truth[1].get_ydata()[0] == pytest.approx((2.0 - 1.2) / 1.8)


def test_posteriors_physical_panels_from_unit_samples() -> None:
    u = np.random.default_rng(1).uniform(0.2, 0.4, size=(300, 3))
    b = np.array([[0.0, 10.0], [1.0, 2.0], [100.0, 300.0]])
    fig = plot_posteriors(u, b, names=["a", "b", "c"], space="unit", show="physical", ncols=2)
    vis = [ax for ax in fig.axes if ax.get_visible()]
    assert len(vis) == 3  # the fourth cell of the 2 × 2 grid is hidden
    for ax, (lo, hi), j in zip(vis, b, range(3), strict=True):
        y0, y1 = ax.get_ylim()
        assert y0 < lo and y1 > hi  # the whole prior range is in view
        med = next(ln for ln in ax.get_lines() if ln.get_marker() == "o").get_ydata()[0]
        assert med == pytest.approx(lo + np.median(u[:, j]) * (hi - lo))
    with pytest.raises(InputDataError, match="lower < upper"):
        plot_posteriors(u, b[::-1, ::-1], names=["a", "b", "c"])
    with pytest.raises(InputDataError, match="no prior bounds for"):
        plot_posteriors({"z": u[:, 0]}, {"a": (0, 1)})


def test_posterior_constant_draws_do_not_break() -> None:
    fig = plot_posteriors({"a": np.full(50, 0.5)}, {"a": (0.0, 1.0)}, space="unit")
    assert isinstance(fig, Figure)


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon = np.arange(-9.5, 10.0, 1.0)  # 20 cells
    lat = np.arange(40.5, 50.0, 1.0)  # 10 cells
    values = np.add.outer(lat, 0.1 * lon)
    return lon, lat, values


def test_map_coastline_from_land_and_colour_bar_with_units() -> None:
    lon, lat, values = _grid()
    land = np.broadcast_to((lon > 0).astype(float), values.shape)  # land east of 0°E
    fig = plot_map(values, lon, lat, units="Mg C ha⁻¹", label="SOC stock", land=land)
    ax, cax = fig.axes
    (coast,) = [c for c in ax.collections if c.get_gid() == "coastline"]
    xs = np.concatenate([p.vertices[:, 0] for p in coast.get_paths()])
    np.testing.assert_allclose(xs, 0.0, atol=1e-12)  # 0.5 level half-way between −0.5 and 0.5
    assert cax.get_ylabel() == "SOC stock [Mg C ha⁻¹]" or cax.get_xlabel() == (
        "SOC stock [Mg C ha⁻¹]")
    assert ax.get_xlabel() == "longitude [°E]" and ax.get_ylabel() == "latitude [°N]"


def test_map_panels_share_one_colour_bar_and_units_are_required() -> None:
    lon, lat, values = _grid()
    panels = {"5 %": values - 1, "mean": values, "95 %": values + 1}
    fig = plot_map(panels, lon, lat, units="Mg C ha⁻¹", land=False)
    assert len(fig.axes) == 4  # three maps and one colour bar
    assert [a.get_title() for a in fig.axes[:3]] == ["5 %", "mean", "95 %"]
    assert {tuple(a.collections[0].get_clim()) for a in fig.axes[:3]} == {
        tuple(np.percentile(np.concatenate([v.ravel() for v in panels.values()]), [2, 98]))}
    with pytest.raises(InputDataError, match="unit of its values"):
        plot_map(values, lon, lat, land=False)
    with pytest.raises(InputDataError, match=r"expected \(lat, lon\) = \(10, 20\)"):
        plot_map(values.T, lon, lat, units="1", land=False)


def test_map_from_dataarray_takes_units() -> None:
    lon, lat, values = _grid()
    da = xr.DataArray(values, dims=("y", "x"), coords={"y": lat, "x": lon}, name="soc",
                      attrs={"units": "kg C m-2", "long_name": "SOC stock"})
    fig = plot_map(da, land=False)
    cax = fig.axes[-1]
    assert "SOC stock [kg C m-2]" in (cax.get_xlabel(), cax.get_ylabel())


def test_map_panels_of_dataarrays_any_dim_order() -> None:
    lon, lat, values = _grid()
    lat_desc = lat[::-1]  # north to south, stored (x, y)
    da = xr.DataArray(values[::-1].T, dims=("x", "y"), coords={"x": lon, "y": lat_desc},
                      attrs={"units": "Mg C ha-1"})
    land = xr.DataArray(np.broadcast_to((lon > 0).astype(float), values.shape)[::-1].T,
                        dims=("x", "y"), coords={"x": lon, "y": lat_desc})
    fig = plot_map({"lower": da - 1, "mean": da}, land=land, label="SOC")
    ax = fig.axes[0]
    assert "SOC [Mg C ha-1]" in (fig.axes[-1].get_xlabel(), fig.axes[-1].get_ylabel())
    (coast,) = [c for c in ax.collections if c.get_gid() == "coastline"]
    xs = np.concatenate([p.vertices[:, 0] for p in coast.get_paths()])
    np.testing.assert_allclose(xs, 0.0, atol=1e-12)
    # rows follow y as stored (north first here), and so do the cell edges: the north-west
    # cell keeps its value and its place
    mesh = ax.collections[0]
    assert mesh.get_array().reshape(lat.size, lon.size)[0, 0] == pytest.approx(
        values[-1, 0] - 1)
    nw = mesh.get_paths()[0].vertices
    assert nw[:, 0].min() == -10.0 and nw[:, 1].max() == 50.0


@pytest.mark.slow
def test_land_fraction_from_bundled_mask() -> None:
    """global-land-mask (GLOBE 30″): 40–41°N 3–5°W (around Madrid) is all land, 40–41°N
    19–21°W is open Atlantic (1° cells: edges half-way between the centres)."""
    lat = np.array([40.5])
    np.testing.assert_array_equal(land_fraction_on(np.array([-4.5, -3.5]), lat, 4), [[1, 1]])
    np.testing.assert_array_equal(land_fraction_on(np.array([-20.5, -19.5]), lat, 4), [[0, 0]])
    lon, lat, values = _grid()  # 9.5°W–9.5°E, 40.5–49.5°N: Biscay, France, the Alps
    fig = plot_map(values, lon, lat, units="1")
    assert any(c.get_gid() == "coastline" for c in fig.axes[0].collections)


def test_every_public_name_is_importable_from_the_package() -> None:
    import wholesoil.plots as plots

    for name in plots.__all__:
        assert getattr(plots, name) is not None
    assert set(plots.__all__) <= set(dir(plots))
    with pytest.raises(AttributeError):
        plots.plot_nothing  # noqa: B018


def test_report_loads_without_matplotlib() -> None:
    import subprocess
    import sys

    code = ("import sys; import wholesoil.report, wholesoil.plots.report as r; "
            "assert wholesoil.report.Report is r.Report; "
            "print(any(m.split('.')[0] == 'matplotlib' for m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
