"""root-inputs reproduction pieces: a hand-computed layer, the biome rule, the zone rule and the
layer selection on the bundled ISRaD database."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from wholesoil.profiles import ProfileSet
from wholesoil.radiocarbon._onepool import onepool_ages
from wholesoil.reproduce.root_inputs import (
    assign_biome,
    biome_beta,
    hua_zone,
    layer_stocks,
    select_layers,
)


def _one_layer() -> ProfileSet:
    sites = pd.DataFrame({"profile_id": ["E:S:P"], "entry": ["E"], "lat": [45.0], "lon": [-68.0],
                          "pro_graven_zone": ["NHc14"]})
    h = pd.DataFrame({"profile_id": ["E:S:P", "E:S:P"], "top": [-5.0, 0.0],
                      "bottom": [0.0, 10.0], "horizon": ["Oa", "A"],
                      "d14c": [100.0, 69.89347424], "obs_year": [2019.0, 2019.0],
                      "soc": [400.0, 20.0], "bd": [0.1, 1.25],
                      "soc_density_reported": [np.nan, np.nan], "source_row": [2, 3]})
    return ProfileSet(sites, h, {"source": "israd"})


def test_hand_computed_layer_age_and_i_bulk():
    # Peer program: R 4.2.2 + deSolve run as SoilR's OnepModel14 (tests/radiocarbon/
    # test_onepool.py::test_forward_matches_r_desolve_reference): k = 0.01 yr⁻¹ gives
    # Δ14C = 69.89347424 ‰ in 2019 (Hua 2021 NH zone 1, start 1942 at steady state,
    # λ = 1.209681e-4). Stock by hand: 20 g kg⁻¹ × 1.25 g cm⁻³ × 10 cm / 10 = 25 Mg C ha⁻¹,
    # so C age = 1/k = 100 yr and I_bulk = 25 / 100 = 0.25 Mg C ha⁻¹ yr⁻¹ (Eq. 6).
    ps = _one_layer()
    layers, filters = select_layers(ps)
    assert len(layers) == 1 and layers.top.iloc[0] == 0.0          # organic layer out
    assert filters.set_index("step").loc["mineral_depth", "removed"] == 1
    zone, agree = hua_zone(np.array([45.0]), np.array(["NHc14"]))
    assert zone.tolist() == ["NHZone1"] and agree.all()
    stock, src = layer_stocks(layers, ps.sites)
    assert_allclose(stock, [25.0], rtol=1e-12) and src.tolist() == ["measured_bd_c"]
    sub = layers.assign(zone=zone, year=layers.obs_year)[
        ["profile_id", "top", "bottom", "d14c", "year", "zone"]]
    res = onepool_ages(sub, start_year=1942.0, lam=1.209681e-4, curve="hua2021",
                       interpolation="spline", choose="slow")
    assert_allclose(res.age, [100.0], rtol=2e-4)
    assert_allclose(stock / res.age.to_numpy(), [0.25], rtol=2e-4)


def test_biome_rule():
    sites = pd.DataFrame({
        "profile_id": list("abcdefgh"),
        "pro_landCover_0.5_deg_MODISreclass1_description": [
            "Evergreen Needleleaf Forests", "Mixed Forests", "Cropland", "Open Shrublands",
            "Grasslands", None, "Evergreen Broadleaf Forests", "Savannas"],
        "ecosystem": [None, None, None, None, None, "tundra", None, None],
        "pro_KG_present_short": ["Dfc", "Cfb", "Dfb", "BWh", "BSk", "Dfc", "Af", "Aw"],
    })
    b = assign_biome(sites)
    assert b.biome.tolist() == ["boreal_forest", "temperate_forest", "cropland", "desert",
                                "temperate_grassland", "tundra", "tropical_subtropical_forest",
                                "tropical_subtropical_grassland_savanna"]
    # Jackson et al. 1996 Table 1 β
    assert_allclose(biome_beta(b), [0.943, 0.966, 0.961, 0.975, 0.943, 0.914, 0.962, 0.972])


@pytest.mark.slow
def test_selection_on_the_database():
    from wholesoil.datasets import load_israd

    layers, f = select_layers(load_israd())
    f = f.set_index("step")
    assert f.loc["bulk_d14c", "layers"] == 7862
    assert f.loc["within_200cm", "layers"] == len(layers)
    assert layers.obs_year.notna().all() and (layers.top >= 0).all()
    assert (layers.bottom <= 200).all() and (layers.bottom > layers.top).all()
    with_fills, g = select_layers(load_israd(), include_fills=True)
    assert g.set_index("step").loc["bulk_d14c", "layers"] == 7862 + 54
    assert (with_fills.d14c_source == "lyr_14c_fill_extra").sum() > 0


KEYS = ["profiles", "layers", "c_age_mean_0_30cm", "c_age_mean_30_100cm", "c_age_mean_0_200cm",
        "i_bulk_0_200cm", "i_bulk_0_20cm", "i_bulk_20_40cm", "i_bulk_40_60cm",
        "i_bulk_share_0_20cm", "i_bulk_temperate_forest", "i_bulk_boreal_forest",
        "i_bulk_tundra", "i_bulk_desert", "i_root_0_200cm", "i_root_share_0_20cm",
        "i_loss_0_200cm", "i_loss_fraction"]


@pytest.mark.slow
def test_quick_run_writes_every_row(tmp_path):
    """The --quick run (about 2 min on two cores) fills every row of issue 20, in order."""
    from wholesoil.reproduce import run_reproduction

    _ctx, files = run_reproduction("root-inputs", tmp_path, quick=True, workers=2)
    table = pd.read_csv(files["comparison"])
    assert table.quantity.tolist()[:len(KEYS)] == KEYS
    assert table.ours.iloc[:len(KEYS)].notna().all()
    # the extra rows too: the mixed model (formula through the allow-listed parser) and the CV
    for key in ("mixed_r2_i_bulk", "ensemble_cv_r2_i_bulk", "harmonization_r2"):
        assert table.set_index("quantity").ours.notna().get(key, False), key
    for name in ("run.json", "index.html", "tables/layer_selection.csv",
                 "tables/qc_counts.csv", "figures/depth_profile.png"):
        assert (tmp_path / name).exists(), name
    layers = pd.read_csv(tmp_path / "tables" / "layers.csv.gz")
    assert layers.obs_year.notna().all() and (layers.zone != "").all()
    assert (layers.top >= 0).all() and (layers.bottom <= 200).all()


def test_datasets_command_lists_israd_with_licence_and_dois(tmp_path):
    from typer.testing import CliRunner

    from wholesoil.cli import app

    res = CliRunner().invoke(app, ["datasets"])
    assert res.exit_code == 0 and "israd:" in res.output and "CC BY 4.0" in res.output
    out = tmp_path / "entries.csv"
    res = CliRunner().invoke(app, ["datasets", "israd", "--entries", str(out)])
    assert res.exit_code == 0, res.output
    e = pd.read_csv(out)
    assert len(e) == 436 and "doi" in e.columns
