"""Environment/Forcing validation, the CLM5 history reader (a fixture NetCDF written here in CLM5's
layout) and the climate-driven forcing generator, against closed forms."""

import math

import netCDF4
import numpy as np
import pytest
from numpy.testing import assert_allclose

from wholesoil.errors import InputDataError
from wholesoil.io import read_clm5_history
from wholesoil.models._environment import (
    DAMPING_DEPTH,
    SECONDS_PER_YEAR,
    Environment,
    Forcing,
    forcing_from_climate,
    miami_npp,
    stefan_active_layer,
    thornthwaite_pet,
)
from wholesoil.models._scalars import water_scalar
from wholesoil.models._vertical import clm5_grid

G = clm5_grid()


def _env(**kw):
    base = dict(
        tsoi=np.full((3, 20), 10.0),
        soilpsi=np.full((3, 20), -0.1),
        npp=np.array([500.0, 800.0, 100.0]),
        sand=np.array([40.0, 60.0, 10.0]),
        altmax=np.array([np.nan, 1.0, 0.5]),
        altmax_lastyear=np.array([np.nan, 0.9, 0.4]),
        nbedrock=np.array([20, 20, 12]),
    )
    base.update(kw)
    return Environment(**base)


def test_environment_valid_and_batch_shape():
    e = _env()
    assert e.batch_shape == (3,)
    assert e.n_layers == 20
    assert e.nbedrock.dtype == np.int64
    assert e.leaf_fraction == 0.0 and e.cwd_fraction is None and e.o_scalar is None
    with pytest.raises(ValueError):
        e.tsoi[0, 0] = 1.0  # read-only


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(tsoi=np.full((3, 19), 10.0)), "tsoi must have 20 layers"),
        (
            dict(tsoi=np.where(np.eye(3, 20) > 0, np.nan, 10.0)),
            r"tsoi \[°C\] must be finite.*index \(0, 0\)",
        ),
        (dict(tsoi=np.full((3, 20), 283.15)), "kelvin"),
        (dict(soilpsi=np.full((3, 20), np.nan)), "soilpsi"),
        (dict(sand=np.array([40.0, 160.0, 10.0])), r"sand must be in \[0.0, 100.0\].*got 160.0"),
        (dict(npp=np.array([-1.0, 1.0, 1.0])), "npp"),
        (dict(nbedrock=np.array([20, 0, 12])), r"nbedrock.*index \(1,\).*got 0.0"),
        (dict(altmax=np.array([-1.0, 1.0, 1.0])), "altmax"),
        (dict(o_scalar=np.full((3, 20), 2.0)), "o_scalar"),
        (dict(leaf_fraction=1.5), "leaf_fraction"),
        (dict(npp=np.ones(4)), "broadcast"),
    ],
)
def test_environment_rejects_bad_input(kw, match):
    with pytest.raises(InputDataError, match=match):
        _env(**kw)


def _forcing(n_months=12):
    rng = np.random.default_rng(3)
    return Forcing(
        tsoi=rng.uniform(-5, 25, (2, n_months, 20)),
        soilpsi=-rng.uniform(0.01, 1, (2, n_months, 20)),
        npp=rng.uniform(0, 1000, (2, n_months)),
        sand=np.array([30.0, 50.0]),
        altmax=np.array([np.linspace(0, 1.2, n_months), np.full(n_months, np.nan)]),
        altmax_lastyear=np.array([np.full(n_months, 1.1), np.full(n_months, np.nan)]),
        nbedrock=np.array([20, 15]),
        o_scalar=rng.uniform(0.2, 1, (2, n_months, 20)),
    )


def test_forcing_time_mean_and_climatology():
    f = _forcing(24)
    e = f.time_mean()
    assert_allclose(e.tsoi, f.tsoi.mean(axis=1), rtol=1e-14)
    assert_allclose(e.npp, f.npp.mean(axis=1), rtol=1e-14)
    assert_allclose(e.o_scalar, f.o_scalar.mean(axis=1), rtol=1e-14)
    assert_allclose(e.altmax, [1.2, np.nan])  # annual maximum, NaN kept for no permafrost
    assert_allclose(e.altmax_lastyear, [1.1, np.nan])
    w = np.arange(1.0, 25.0)
    assert_allclose(f.time_mean(weights=w).npp, (f.npp * w).sum(1) / w.sum(), rtol=1e-14)
    c = f.monthly_climatology()
    assert c.n_months == 12
    assert_allclose(c.tsoi[:, 3], (f.tsoi[:, 3] + f.tsoi[:, 15]) / 2, rtol=1e-14)
    with pytest.raises(InputDataError, match="months axis last"):
        Forcing(**{**_forcing().__dict__, "npp": np.ones((2, 11)), "attrs": {}})
    with pytest.raises(InputDataError, match="weights"):
        f.time_mean(weights=np.ones(3))


# --------------------------------------------------------------------- CLM5 history fixture
def _write_history(
    path, months, *, latlon=False, with_nbedrock=True, units_tsoi="K", nan_below_bedrock=False
):
    """A CLM5-layout history file: dims time, levgrnd (25), levsoi (20), levdcmp (20) and
    lndgrid (3 cells) or lat × lon (2 × 2, one ocean cell all missing)."""
    n_t = len(months)
    space = ("lat", "lon") if latlon else ("lndgrid",)
    shape = (2, 2) if latlon else (3,)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("levgrnd", 25)
        nc.createDimension("levsoi", 20)
        nc.createDimension("levdcmp", 20)
        for d, n in zip(space, shape, strict=True):
            nc.createDimension(d, n)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = "days since 0001-01-01"
        t[:] = np.asarray(months, float) * 30.0
        if latlon:
            nc.createVariable("lat", "f8", ("lat",))[:] = [10.0, 20.0]
            nc.createVariable("lon", "f8", ("lon",))[:] = [100.0, 110.0]
        else:
            nc.createVariable("lat", "f8", ("lndgrid",))[:] = [60.0, 45.0, -10.0]
            nc.createVariable("lon", "f8", ("lndgrid",))[:] = [10.0, 20.0, 30.0]

        def var(name, dims, units, values):
            v = nc.createVariable(name, "f4", dims, fill_value=1e36)
            v.units = units
            v[:] = values
            return v

        m = np.asarray(months, float)[:, None, None]
        lev = np.arange(25.0)[None, :, None]
        tsoi = 273.15 + m + 0.1 * lev + np.zeros((n_t, 25, *shape)).reshape(n_t, 25, -1)
        tsoi = tsoi.reshape(n_t, 25, *shape)
        psi = -0.01 * (1 + lev) * np.ones((n_t, 25, int(np.prod(shape))))
        psi = psi.reshape(n_t, 25, *shape)
        if nan_below_bedrock:
            psi = np.ma.masked_array(psi, mask=np.zeros_like(psi, bool))
            psi.mask[:, 15:, ...] = True
        if latlon:
            tsoi = np.ma.masked_array(tsoi, mask=np.zeros_like(tsoi, bool))
            tsoi.mask[..., 1, 1] = True
        var(
            "TSOI",
            ("time", "levgrnd", *space),
            units_tsoi,
            tsoi if units_tsoi == "K" else tsoi - 273.15,
        )
        var("SOILPSI", ("time", "levgrnd", *space), "MPa", psi)
        var(
            "NPP",
            ("time", *space),
            "gC/m^2/s",
            1e-6 * (1 + m[:, 0, 0, None].repeat(int(np.prod(shape)), 1)).reshape(n_t, *shape),
        )
        sand = np.arange(20.0)[:, None] + np.zeros((20, int(np.prod(shape))))
        var("CELLSAND", ("levsoi", *space), "percent", sand.reshape(20, *shape))
        var("ALTMAX", ("time", *space), "m", np.full((n_t, *shape), 0.8))
        var("ALTMAX_LASTYEAR", ("time", *space), "m", np.full((n_t, *shape), 0.7))
        var("O_SCALAR", ("time", "levdcmp", *space), "proportion", np.full((n_t, 20, *shape), 0.9))
        if with_nbedrock:
            nb = nc.createVariable("nbedrock", "i4", space)
            nb[:] = np.array([20, 15, 18]) if not latlon else np.full(shape, 20)
    return path


def test_read_clm5_history_units_and_layout(tmp_path):
    p = _write_history(tmp_path / "h0.nc", range(12))
    f = read_clm5_history(p)
    assert f.tsoi.shape == (3, 12, 20) and f.npp.shape == (3, 12)
    # TSOI [K] → °C: written 273.15 + month + 0.1·level (float32 storage: tolerance 1e-4 K).
    expected = np.arange(12.0)[:, None] + 0.1 * np.arange(20.0)[None, :]
    assert_allclose(f.tsoi[1], expected, atol=1e-4)
    # NPP [g C m-2 s-1] × 365 × 86400 s → g C m-2 yr-1: 1e-6·(1 + month) → 31.536·(1 + month).
    assert SECONDS_PER_YEAR == 31_536_000.0
    assert_allclose(f.npp[0], 31.536 * (1 + np.arange(12.0)), rtol=1e-6)
    assert_allclose(f.soilpsi[0, 0], -0.01 * (1 + np.arange(20.0)), rtol=1e-6)
    assert_allclose(f.sand, 9.5)  # mean of 0…19 % over the 20 soil layers (PRODA)
    assert_allclose(f.altmax, 0.8, rtol=1e-6)
    assert_allclose(f.o_scalar, 0.9, rtol=1e-6)
    assert f.fpi_vr is None
    assert list(f.nbedrock) == [20, 15, 18]
    assert_allclose(f.attrs["lat"], [60, 45, -10])
    e = f.time_mean()
    assert_allclose(e.tsoi[2, 0], 5.5, atol=1e-4)


def test_read_clm5_history_several_files_in_time_order(tmp_path):
    a = _write_history(tmp_path / "b.nc", range(12, 24))
    b = _write_history(tmp_path / "a.nc", range(12))
    f = read_clm5_history([a, b])  # given out of order: sorted by time
    assert f.n_months == 24
    assert_allclose(f.tsoi[0, :, 0], np.arange(24.0), atol=1e-4)


def test_read_clm5_history_latlon_ocean_and_bedrock_fill(tmp_path):
    p = _write_history(
        tmp_path / "g.nc", range(12), latlon=True, with_nbedrock=False, nan_below_bedrock=True
    )
    with pytest.raises(InputDataError, match="nbedrock"):
        read_clm5_history(p)
    f = read_clm5_history(p, nbedrock=15)
    assert f.tsoi.shape == (3, 12, 20)  # the masked ocean cell (1, 1) is left out
    assert list(f.attrs["cell_index"]) == [0, 1, 2]
    assert f.attrs["cells_without_data"] == 1
    assert_allclose(f.attrs["lat"], [10, 10, 20])
    assert_allclose(f.attrs["lon"], [100, 110, 100])
    # SOILPSI missing in layers 15–19 (below bedrock) → deepest soil layer's value, counted.
    assert_allclose(f.soilpsi[:, :, 15:], -0.15, rtol=1e-6)
    assert f.attrs["filled_below_bedrock"] == 3 * 12 * 5
    # With no bedrock those gaps are real missing data and are refused.
    with pytest.raises(InputDataError, match="soilpsi"):
        read_clm5_history(p, nbedrock=20)


def test_read_clm5_history_refuses_unknown_units_and_missing_variables(tmp_path):
    p = _write_history(tmp_path / "u.nc", range(12), units_tsoi="F")
    with pytest.raises(InputDataError, match=r"TSOI has units 'F'"):
        read_clm5_history(p)
    q = tmp_path / "empty.nc"
    with netCDF4.Dataset(q, "w") as nc:
        nc.createDimension("time", 1)
    with pytest.raises(InputDataError, match="lacks"):
        read_clm5_history(q)


# --------------------------------------------------------------------- generator
def test_miami_npp_closed_form():
    # Lieth (1975): NPP = min(3000/(1+exp(1.315−0.119 T)), 3000(1−exp(−0.000664 P))) g DM, × 0.5.
    t, p = 10.0, 1000.0
    npp_t = 3000 / (1 + math.exp(1.315 - 0.119 * t))
    npp_p = 3000 * (1 - math.exp(-0.000664 * p))
    assert_allclose(miami_npp(t, p), 0.5 * min(npp_t, npp_p), rtol=1e-14)
    assert_allclose(miami_npp(10.0, 1000.0), 703.19, atol=0.01)  # temperature-limited
    assert_allclose(miami_npp(25.0, 300.0), 0.5 * 3000 * (1 - math.exp(-0.1992)), rtol=1e-14)
    assert_allclose(miami_npp(20.0, 0.0), 0.0)


def test_stefan_active_layer():
    # √(2 k DDT 86400 / (L θ)) with k = 1 W m-1 K-1, θ = 0.3, L = 3.34e8 J m-3.
    assert_allclose(stefan_active_layer(1000.0), math.sqrt(2 * 1000 * 86400 / (3.34e8 * 0.3)))
    assert_allclose(stefan_active_layer(1000.0), 1.3132, atol=1e-4)
    assert stefan_active_layer(0.0) == 0.0


def test_thornthwaite_pet_properties():
    assert_allclose(thornthwaite_pet(np.full(12, -3.0)), 0.0)
    pet = thornthwaite_pet(np.full(12, 15.0))  # 12-h days: PET ∝ days in month
    assert_allclose(pet / pet[0], np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) / 31)
    # Constant T: I = 12 (T/5)^1.514; at 10T/I the monthly PET is 16 (N/30) (10T/I)^a.
    heat = 12 * 3.0**1.514
    a = 6.75e-7 * heat**3 - 7.71e-5 * heat**2 + 1.792e-2 * heat + 0.49239
    assert_allclose(pet[3], 16 * (30 / 30) * (150 / heat) ** a, rtol=1e-12)
    # Summer days are longer at 60°N than at the equator.
    t = np.full(12, 15.0)
    assert thornthwaite_pet(t, 60.0)[6] > thornthwaite_pet(t, 0.0)[6]


def test_forcing_from_climate_temperature_wave():
    mat = np.array([-6.0, 8.0, 20.0])
    f = forcing_from_climate(
        mat,
        np.array([250.0, 800.0, 1500.0]),
        lat=np.array([70, 45, -30]),
        amplitude=np.array([15.0, 10.0, 5.0]),
    )
    assert f.tsoi.shape == (3, 12, 20) and f.n_months == 12
    # Annual mean at every depth = MAT (12 equally spaced samples of a cosine average to 0).
    assert_allclose(f.tsoi.mean(axis=1), mat[:, None] * np.ones(20), atol=1e-12)
    # First annual harmonic = A·exp(−z/d) at every depth (discrete Fourier of 12 samples).
    harm = 2 / 12 * np.abs(np.fft.fft(f.tsoi, axis=1)[:, 1, :])
    amp = np.array([15.0, 10.0, 5.0])[:, None] * np.exp(-G.z_node / DAMPING_DEPTH)
    assert_allclose(harm, amp, rtol=1e-12)
    assert_allclose(DAMPING_DEPTH, 2.2404, atol=1e-4)  # √(2·0.5e-6 / (2π/31,536,000 s))
    # Coldest surface month: January (index 0) in the north, July (6) in the south.
    assert np.argmin(f.tsoi[1, :, 0]) == 0 and np.argmin(f.tsoi[2, :, 0]) == 6


def test_forcing_from_climate_water_npp_alt():
    mat = np.array([-6.0, 8.0, 20.0, 25.0])
    mp = np.array([250.0, 3000.0, 1500.0, 50.0])
    f = forcing_from_climate(mat, mp)
    e = f.time_mean()
    assert_allclose(e.npp, miami_npp(mat, mp), rtol=1e-14)
    # ψ constant in depth and time; ξ_W(ψ) = clip(MAP/PET, 0.05, 1).
    # surface wave of the generator: MAT − 10·cos(2π·month/12), coldest mid-January
    t_surface = mat[:, None] - 10 * np.cos(2 * np.pi * np.arange(12) / 12)
    pet = thornthwaite_pet(t_surface).sum(-1)
    xi = water_scalar(f.soilpsi[:, 0, 0])
    assert_allclose(xi, np.clip(mp / pet, 0.05, 1), rtol=1e-10)
    assert xi[1] == 1.0 and xi[3] == pytest.approx(0.05, rel=1e-12)
    # Active layer: Stefan from the surface thawing degree-days where MAT < 0, NaN elsewhere.
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    ddt = (np.maximum(t_surface[0], 0) * days).sum()
    assert_allclose(f.altmax[0], stefan_active_layer(ddt), rtol=1e-12)
    assert np.isnan(f.altmax[1:]).all()
    assert list(e.nbedrock) == [20] * 4 and list(e.sand) == [40.0] * 4
    with pytest.raises(InputDataError, match="map"):
        forcing_from_climate(5.0, -10.0)
