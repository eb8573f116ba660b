"""Grids: read_grid, write_netcdf, write_cogs, plot_grid_map, load_climate_grid.

Reference numbers come from closed forms (bilinear and averaging kernels reproduce a linear
field exactly at cell centres they are symmetric about), from GDAL's own reading of our files
(Debian ``gdalinfo`` 3.6.2 on PATH and rasterio 1.4.4's GDAL 3.10), from rioxarray 0.19.0's
``reproject_match`` and from the bundled NCEP/CMAP climate (SOURCES.md: Howland Forest reads
about 5.0 °C and 974 mm).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings

import dask
import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr

from wholesoil.datasets import climate_at, load_climate_grid
from wholesoil.errors import InputDataError
from wholesoil.io._grid import (
    check_grid_features,
    cog_name,
    read_grid,
    write_cogs,
    write_netcdf,
)
from wholesoil.plots import plot_grid_map

GDALINFO = shutil.which("gdalinfo")
needs_gdalinfo = pytest.mark.skipif(GDALINFO is None, reason="gdalinfo (GDAL CLI) not on PATH")


def linear(lon, lat):
    """A field linear in lon and lat: every symmetric resampling kernel reproduces it."""
    return 3.0 + 0.2 * lon - 0.1 * lat


def geo_grid(res, west=-20.0, east=20.0, south=30.0, north=60.0, ascending=False, crs=4326):
    x = np.arange(west + res / 2, east, res)
    y = np.arange(north - res / 2, south, -res)
    if ascending:
        y = y[::-1]
    lon, lat = np.meshgrid(x, y)
    da = xr.DataArray(
        linear(lon, lat),
        dims=("y", "x"),
        coords={"y": y, "x": x},
        attrs={"units": "°C", "long_name": "a linear field"},
    )
    return da.rio.write_crs(f"EPSG:{crs}")


def layered():
    """soc (depth 0-30, 30-100 cm) with mean, Q0.05, uncertainty, and a 2-D beta with NaNs."""
    base = geo_grid(1.0)
    rng = np.random.default_rng(4)
    vals = rng.gamma(3.0, 20.0, size=(2, *base.shape))
    vals[:, 0, 0] = np.nan
    ds = xr.Dataset(
        coords={"depth": [15.0, 65.0], "y": base.y, "x": base.x},
    )
    for stat, f in (("mean", 1.0), ("Q0.05", 0.5), ("uncertainty", 0.1)):
        ds[f"soc_{stat}"] = (("depth", "y", "x"), vals * f, {"units": "Mg C ha-1"})
    beta = rng.uniform(0.9, 0.99, size=base.shape)
    beta[3, 4] = np.nan
    ds["beta_Q0.05_coulston"] = (
        ("y", "x"),
        beta,
        {"units": "1", "interval_method": "coulston", "interval_kind": "prediction", "level": 0.9},
    )
    ds = ds.assign_coords(depth_bnds=(("depth", "nv"), np.array([[0.0, 30.0], [30.0, 100.0]])))
    ds.attrs["messages"] = ["a message", "another"]
    ds.attrs["provenance"] = {"model": "qrf", "seed": 1}
    return ds.rio.write_crs("EPSG:4326")


def gdalinfo(*args):
    """Debian gdalinfo's output; it must read the file without a warning or error."""
    out = subprocess.run([GDALINFO, *map(str, args)], capture_output=True, text=True, check=True)
    assert out.stderr == "", out.stderr
    return out.stdout


def gdalinfo_json(target):
    return json.loads(gdalinfo("-json", target))


def open_strict(path):
    """xarray's open_dataset with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return xr.open_dataset(path, decode_coords="all").load()


def open_cog(path):
    # rioxarray 0.19.0 itself multiplies Affine objects with `*`, which affine 3.0 flags with a
    # PendingDeprecationWarning; that one (not ours, not the file's) is let through.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings(
            "ignore", message="Use `@` matmul", category=PendingDeprecationWarning
        )
        return rioxarray.open_rasterio(path, masked=True).load()


# ---------------------------------------------------------------------------------- NetCDF
def test_netcdf_round_trip_layered(tmp_path):
    ds = layered()
    path = write_netcdf(ds, tmp_path / "out.nc")
    back = read_grid(path)
    for v in ds.data_vars:
        np.testing.assert_array_equal(back[v].values, ds[v].values)  # exact, NaN included
        assert back[v].dims == ds[v].dims
        assert back[v].attrs["units"] == ds[v].attrs["units"]
    assert back["beta_Q0.05_coulston"].attrs["level"] == 0.9
    assert back.rio.crs.to_epsg() == 4326
    np.testing.assert_array_equal(back.depth.values, [15.0, 65.0])
    np.testing.assert_array_equal(back.depth_bnds.values, [[0, 30], [30, 100]])
    assert back.attrs["messages"] == []
    lazy = read_grid(path, chunks={"y": 8, "x": 16})
    assert lazy["soc_mean"].data.chunks == ((1, 1), (8, 8, 8, 6), (16, 16, 8))  # 1 layer on disk
    xr.testing.assert_identical(
        lazy.compute(), back.drop_attrs(deep=False).assign_attrs(back.attrs)
    )


def test_netcdf_is_cf_and_opens_in_xarray_without_warnings(tmp_path):
    path = write_netcdf(layered(), tmp_path / "out.nc")
    nc = open_strict(path)
    assert nc.attrs["Conventions"] == "CF-1.8"
    assert nc.attrs["messages"] == "a message\nanother"
    assert json.loads(nc.attrs["provenance"]) == {"model": "qrf", "seed": 1}
    assert nc.rio.crs.to_epsg() == 4326
    assert "crs_wkt" in nc.spatial_ref.attrs and "spatial_ref" in nc.spatial_ref.attrs
    assert nc.x.attrs["standard_name"] == "longitude" and nc.x.attrs["units"] == "degrees_east"
    assert nc.y.attrs["standard_name"] == "latitude" and nc.y.attrs["units"] == "degrees_north"
    assert nc.depth.attrs["units"] == "cm" and nc.depth.attrs["positive"] == "down"
    assert nc.depth.encoding["bounds"] == "depth_bnds"  # decoded by xarray into encoding
    assert "depth_bnds" in nc.coords
    raw = xr.open_dataset(path, decode_cf=False)  # the attributes as stored
    assert raw["depth"].attrs["bounds"] == "depth_bnds"
    assert raw["soc_mean"].attrs["grid_mapping"] == "spatial_ref"
    assert "_FillValue" in raw["soc_mean"].attrs  # netCDF default fill, f8
    assert "coordinates" not in raw["soc_mean"].attrs
    assert "_FillValue" not in raw["x"].attrs and "_FillValue" not in raw["depth"].attrs
    assert raw["soc_mean"].encoding["zlib"] is True


def test_layer_bounds_from_top_bottom_coordinates(tmp_path):
    # the mapping layers carry their bounds as top/bottom coordinates along depth
    da = layered()["soc_mean"]  # a DataArray cannot hold depth_bnds (depth, nv)
    da = da.assign_coords(top=("depth", [0.0, 30.0]), bottom=("depth", [30.0, 100.0]))
    nc = open_strict(write_netcdf(da, tmp_path / "soc.nc"))
    np.testing.assert_array_equal(nc.depth_bnds.values, [[0, 30], [30, 100]])
    np.testing.assert_array_equal(nc.soc_mean.values, da.values)
    files = write_cogs(da, tmp_path)
    assert [p.name for p in files] == ["soc_0-30cm_mean.tif", "soc_30-100cm_mean.tif"]
    with pytest.raises(InputDataError, match="a depth dimension needs layer bounds"):
        write_netcdf(da.drop_vars(["top", "bottom"]), tmp_path / "no_bounds.nc")


@needs_gdalinfo
def test_gdalinfo_reads_netcdf(tmp_path):
    ds = layered()
    path = write_netcdf(ds, tmp_path / "out.nc")
    info = gdalinfo_json(f'NETCDF:"{path}":soc_mean')
    # GDAL's reading: 40 × 30 cells of 1° from (-20, 60), one band per depth layer
    assert info["size"] == [40, 30]
    np.testing.assert_allclose(info["geoTransform"], [-20.0, 1.0, 0.0, 60.0, 0.0, -1.0])
    assert 'ID["EPSG",4326]' in info["coordinateSystem"]["wkt"]
    assert len(info["bands"]) == 2
    stats = gdalinfo("-stats", f'NETCDF:"{path}":soc_mean')
    # band 1 = the 0-30 cm layer; GDAL masks the _FillValue (1 NaN cell of 1200)
    layer = ds["soc_mean"].isel(depth=0).values
    mean = float(re.search(r"STATISTICS_MEAN=(\S+)", stats).group(1))
    assert mean == pytest.approx(np.nanmean(layer), rel=1e-12)
    valid = float(re.search(r"STATISTICS_VALID_PERCENT=(\S+)", stats).group(1))
    assert valid == pytest.approx(100 * 1199 / 1200, abs=0.005)  # printed to 2 decimals


@needs_gdalinfo
def test_gdalinfo_reads_projected_netcdf(tmp_path):
    # UTM zone 33N, 1 km cells: x/y are projection coordinates in metres
    x = np.arange(400_500.0, 420_000.0, 1000.0)
    y = np.arange(5_600_500.0, 5_590_000.0, -1000.0)
    ds = xr.Dataset(
        {"t": (("y", "x"), np.ones((y.size, x.size)), {"units": "°C"})}, coords={"x": x, "y": y}
    ).rio.write_crs("EPSG:32633")
    path = write_netcdf(ds, tmp_path / "utm.nc")
    nc = open_strict(path)
    assert nc.x.attrs["standard_name"] == "projection_x_coordinate" and nc.x.attrs["units"] == "m"
    assert nc.rio.crs.to_epsg() == 32633
    info = gdalinfo_json(str(path))
    np.testing.assert_allclose(
        info["geoTransform"], [400_000.0, 1000.0, 0, 5_601_000.0, 0, -1000.0]
    )
    assert 'ID["EPSG",32633]' in info["coordinateSystem"]["wkt"]


def test_netcdf_write_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "out.nc"
    target.write_bytes(b"old")

    def broken(self, tmp, **kw):
        with open(tmp, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    with pytest.raises(OSError, match="disk full"):
        write_netcdf(layered(), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.nc"]


def test_netcdf_without_crs_with_lat_lon(tmp_path):
    lat = np.arange(30.5, 60.0, 1.0)  # ascending latitude must work too
    lon = np.arange(-19.5, 20.0, 1.0)
    lon2, lat2 = np.meshgrid(lon, lat)
    plain = xr.Dataset(
        {
            "mat": (("lat", "lon"), linear(lon2, lat2), {"units": "°C"}),
            "station_count": ("n", [1, 2, 3]),
        },
        coords={"lat": lat, "lon": lon},
    )
    plain.to_netcdf(tmp_path / "plain.nc")
    ds = read_grid(tmp_path / "plain.nc")
    assert ds.mat.dims == ("y", "x") and ds.rio.crs.to_epsg() == 4326
    np.testing.assert_array_equal(ds.y.values, lat)
    assert ds.attrs["messages"] == [
        "plain.nc: no CRS in the file; lat/lon taken as EPSG:4326 (WGS 84)",
        "plain.nc: not grids (no y/x dims), not read: station_count",
    ]
    # an ascending grid regrids onto a north-up template (and back into the template's order)
    tmpl = geo_grid(2.0)
    on = read_grid(tmp_path / "plain.nc", template=tmpl)
    interior = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(on.mat.values[interior], tmpl.values[interior], atol=1e-12)
    assert on.attrs["messages"][-1] == "plain.nc: resolution 1° → 2°, bilinear"


# ------------------------------------------------------------------------------------ COGs
def test_cog_names():
    # SoilGrids naming: {property}_{top}-{bottom}cm_{stat}; method suffix stays last
    assert cog_name("soc_mean", (0, 30)) == "soc_0-30cm_mean.tif"
    assert cog_name("soc_Q0.05", (0, 30)) == "soc_0-30cm_Q0.05.tif"
    assert cog_name("soc_uncertainty", (30, 100)) == "soc_30-100cm_uncertainty.tif"
    assert cog_name("soc_density_Q0.95_coulston", (100, 200)) == (
        "soc_density_100-200cm_Q0.95_coulston.tif"
    )
    assert cog_name("beta_mean") == "beta_mean.tif"


def test_write_cogs_layout_names_and_round_trip(tmp_path):
    ds = layered()
    ds = ds.isel(y=slice(None, None, -1))  # ascending y is written north-up
    files = write_cogs(ds, tmp_path / "cogs")
    assert sorted(p.name for p in files) == sorted(
        [
            "soc_0-30cm_mean.tif",
            "soc_30-100cm_mean.tif",
            "soc_0-30cm_Q0.05.tif",
            "soc_30-100cm_Q0.05.tif",
            "soc_0-30cm_uncertainty.tif",
            "soc_30-100cm_uncertainty.tif",
            "beta_Q0.05_coulston.tif",
        ]
    )
    for p in files:
        with rasterio.open(p) as src:  # rasterio 1.4.4 / GDAL 3.10 reading
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert src.dtypes == ("float32",) and np.isnan(src.nodata)
            assert src.transform.e < 0  # north-up
    a = open_cog(tmp_path / "cogs" / "soc_30-100cm_mean.tif")
    expect = ds["soc_mean"].isel(depth=1).sortby("y", ascending=False)
    np.testing.assert_array_equal(a.isel(band=0).values, expect.values.astype(np.float32))
    np.testing.assert_array_equal(a.x.values, expect.x.values)
    assert a.rio.crs.to_epsg() == 4326
    with rasterio.open(tmp_path / "cogs" / "beta_Q0.05_coulston.tif") as src:
        tags = src.tags(1)
        assert tags["interval_method"] == "coulston" and tags["units"] == "1"
    # the folder reads back as one grid named by the file stems
    back = read_grid(tmp_path / "cogs")
    assert set(back.data_vars) == {p.stem for p in files}
    assert back["soc_0-30cm_mean"].attrs["units"] == "Mg C ha-1"


@needs_gdalinfo
def test_gdalinfo_validates_cog_with_overviews(tmp_path):
    # 1200 × 1200 cells > the 512-cell tiles: GDAL builds overviews (2 levels: 600, 300)
    x = np.arange(1200) * 0.01 + 0.005
    y = 50.0 - (np.arange(1200) * 0.01 + 0.005)
    v = np.add.outer(np.sin(y), np.cos(x)).astype(np.float32)
    v[:10, :10] = np.nan
    ds = xr.Dataset({"t_mean": (("y", "x"), v, {"units": "°C"})}, coords={"x": x, "y": y})
    (path,) = write_cogs(ds.rio.write_crs("EPSG:4326"), tmp_path)
    text = gdalinfo(path)
    assert "LAYOUT=COG" in text  # GDAL's COG layout check (Debian GDAL 3.6.2)
    assert "Overviews: 600x600, 300x300" in text
    assert "NoData Value=nan" in text and "Block=512x512" in text
    np.testing.assert_array_equal(open_cog(path).isel(band=0).values, v)


# ---------------------------------------------------------------------------- GeoTIFF input
def test_tif_inputs_list_dict_and_multiband(tmp_path):
    base = geo_grid(1.0)
    ds = xr.Dataset({"mat": base, "map": base * 10 + 500}).rio.write_crs("EPSG:4326")
    write_cogs(ds, tmp_path)
    one = read_grid(tmp_path / "mat.tif")
    np.testing.assert_array_equal(one.mat.values, base.values.astype(np.float32))
    assert one.mat.attrs["units"] == "°C" and one.attrs["sources"] == [str(tmp_path / "mat.tif")]
    listed = read_grid([tmp_path / "map.tif", tmp_path / "mat.tif"])
    assert list(listed.data_vars) == ["map", "mat"]
    named = read_grid({"temperature": tmp_path / "mat.tif"})
    assert list(named.data_vars) == ["temperature"]
    # multi-band: band descriptions name the variables, else {stem}_b{k}
    profile = {
        "driver": "GTiff",
        "width": base.x.size,
        "height": base.y.size,
        "count": 2,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": base.rio.transform(),
    }
    for name, desc in (("described", ("clay", "sand")), ("bare", (None, None))):
        with rasterio.open(tmp_path / f"{name}.tif", "w", **profile) as dst:
            dst.write(np.stack([base.values, base.values + 1]).astype(np.float32))
            for k, d in enumerate(desc, start=1):
                if d:
                    dst.set_band_description(k, d)
    assert list(read_grid(tmp_path / "described.tif").data_vars) == ["clay", "sand"]
    bare = read_grid(tmp_path / "bare.tif")
    assert list(bare.data_vars) == ["bare_b1", "bare_b2"]
    np.testing.assert_array_equal(bare.bare_b2.values, (base.values + 1).astype(np.float32))


def test_variables_selection_and_missing(tmp_path):
    write_cogs(xr.Dataset({"mat": geo_grid(1.0), "map": geo_grid(1.0)}), tmp_path)
    assert list(read_grid(tmp_path, variables=["map"]).data_vars) == ["map"]
    with pytest.raises(
        InputDataError, match=r"\['clay'\] not found; the source has \['map', 'mat'\]"
    ):
        read_grid(tmp_path, variables=["map", "clay"])


# ------------------------------------------------------------------------ regrid or refuse
def test_resolution_difference_regridded_with_message_or_refused(tmp_path):
    coarse = geo_grid(2.5)
    fine = geo_grid(0.5) * 1.0
    write_cogs(xr.Dataset({"mat": coarse}).rio.write_crs("EPSG:4326"), tmp_path)
    write_cogs(xr.Dataset({"map": fine}).rio.write_crs("EPSG:4326"), tmp_path)
    ds = read_grid([tmp_path / "mat.tif", tmp_path / "map.tif"])
    assert ds.attrs["messages"] == ["map.tif: resolution 0.5° → 2.5°, bilinear"]
    # closed form: GDAL's bilinear kernel (widened 5× when downsampling) is symmetric about
    # each 2.5° centre, which is a 0.5° centre, so it returns the linear field there exactly
    # (float32 storage: 1e-5)
    interior = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(ds["map"].values[interior], coarse.values[interior], atol=1e-5)
    avg = read_grid([tmp_path / "mat.tif", tmp_path / "map.tif"], method="average")
    assert avg.attrs["messages"] == ["map.tif: resolution 0.5° → 2.5°, average"]
    np.testing.assert_allclose(
        avg["map"].values, coarse.values, atol=1e-5
    )  # 5 × 5 means, edges too
    with pytest.raises(InputDataError) as err:
        read_grid([tmp_path / "mat.tif", tmp_path / "map.tif"], regrid=False)
    assert str(err.value) == (
        f"{tmp_path / 'map.tif'}: grid differs from the reference grid (mat.tif): resolution "
        "0.5° → 2.5°; pass regrid=True to reproject it"
    )


def test_crs_difference_regridded_with_message_or_refused(tmp_path):
    ref = geo_grid(2.0)
    # Web Mercator cells of 50 km covering 20 W-20 E, 30-60 N (y(30°) = 3503549 m,
    # y(60°) = 8399738 m); Web Mercator has x = R·λ, so a field linear in lon is linear in x
    x = np.arange(-2_240_000.0, 2_260_000.0, 50_000.0) + 25_000.0
    y = np.arange(8_600_000.0, 3_400_000.0, -50_000.0) - 25_000.0
    lon = np.degrees(np.broadcast_to(x, (y.size, x.size)) / 6_378_137.0)
    merc = xr.DataArray(3.0 + 0.2 * lon, dims=("y", "x"), coords={"y": y, "x": x})
    merc = merc.rio.write_crs("EPSG:3857")
    write_cogs(xr.Dataset({"mat": ref}).rio.write_crs("EPSG:4326"), tmp_path)
    write_cogs(xr.Dataset({"merc": merc}).rio.write_crs("EPSG:3857"), tmp_path)
    ds = read_grid([tmp_path / "mat.tif", tmp_path / "merc.tif"])
    (msg,) = ds.attrs["messages"]
    assert msg == (
        "merc.tif: CRS EPSG:3857 → EPSG:4326; resolution 50000 m → 2°; extent "
        "x -2240000…2260000 m, y 3400000…8600000 m → x -20…20°, y 30…60°, bilinear"
    )
    # lon part of the field survives exactly (linear in x); compare 3 + 0.2·lon at the centres
    expect = 3.0 + 0.2 * np.broadcast_to(ref.x.values, ref.shape)
    interior = (slice(1, -1), slice(1, -1))
    # (GDAL's approximate transformer, 0.125 px as in gdalwarp, and float32 storage: 1e-3)
    np.testing.assert_allclose(ds.merc.values[interior], expect[interior], atol=1e-3)
    lazy = read_grid([tmp_path / "mat.tif", tmp_path / "merc.tif"], chunks={"y": 8, "x": 8})
    np.testing.assert_array_equal(lazy.merc.values, ds.merc.values)  # blockwise = whole
    with pytest.raises(
        InputDataError, match=r"merc\.tif: grid differs .*: CRS EPSG:3857 → EPSG:4326"
    ):
        read_grid([tmp_path / "mat.tif", tmp_path / "merc.tif"], regrid=False)


def test_lazy_blockwise_regrid_equals_rioxarray(tmp_path):
    rng = np.random.default_rng(1)
    fine = geo_grid(0.5)
    fine = fine.copy(data=rng.normal(size=fine.shape))
    fine.values[5:9, 10:14] = np.nan
    write_cogs(xr.Dataset({"mat": geo_grid(2.5)}).rio.write_crs("EPSG:4326"), tmp_path)
    write_cogs(xr.Dataset({"noise": fine}).rio.write_crs("EPSG:4326"), tmp_path)
    files = [tmp_path / "mat.tif", tmp_path / "noise.tif"]
    eager = read_grid(files)
    lazy = read_grid(files, chunks={"y": 5, "x": 8})
    assert dask.is_dask_collection(lazy.noise.data)
    assert lazy.noise.data.chunks == ((5, 5, 2), (8, 8))
    # reference: rioxarray 0.19.0 reproject_match of the whole array (one GDAL warp)
    src = open_cog(tmp_path / "noise.tif").isel(band=0)
    target = open_cog(tmp_path / "mat.tif").isel(band=0)
    whole = src.rio.reproject_match(target, resampling=rasterio.enums.Resampling.bilinear)
    np.testing.assert_array_equal(eager.noise.values, whole.values)
    np.testing.assert_array_equal(lazy.noise.values, whole.values)
    # a lazy grid writes block by block and reads back the same
    path = write_netcdf(lazy, tmp_path / "lazy.nc")
    np.testing.assert_array_equal(read_grid(path).noise.values, whole.values)


def test_template_and_check_grid_features(tmp_path):
    write_cogs(xr.Dataset({"mat": geo_grid(0.5)}).rio.write_crs("EPSG:4326"), tmp_path)
    tmpl = geo_grid(2.5)
    ds = read_grid(tmp_path / "mat.tif", template=tmpl)
    assert ds.attrs["messages"] == ["mat.tif: resolution 0.5° → 2.5°, bilinear"]
    np.testing.assert_array_equal(ds.x.values, tmpl.x.values)
    write_cogs(xr.Dataset({"tmpl": tmpl}).rio.write_crs("EPSG:4326"), tmp_path / "t")
    by_path = read_grid(tmp_path / "mat.tif", template=tmp_path / "t" / "tmpl.tif")
    np.testing.assert_array_equal(by_path.mat.values, ds.mat.values)
    with pytest.raises(InputDataError, match="grid differs from the reference grid \\(template\\)"):
        read_grid(tmp_path / "mat.tif", template=tmpl, regrid=False)
    check_grid_features(ds, ["mat"], source="covariates/")
    with pytest.raises(InputDataError) as err:
        check_grid_features(ds, ["mat", "clay", "ph"], source="covariates/")
    assert str(err.value) == (
        "covariates/, field 'clay': the model needs covariate(s) ['clay', 'ph'] that the grid "
        "lacks; the grid has ['mat']"
    )


# ----------------------------------------------------------------------------- climate grid
def test_climate_grid_matches_load_climate_and_howland():
    ds = load_climate_grid()
    assert ds.mat.dims == ("y", "x") and ds.mat.shape == (72, 144)
    assert ds.rio.crs.to_epsg() == 4326
    np.testing.assert_allclose(ds.x.values, -178.75 + 2.5 * np.arange(144))
    np.testing.assert_allclose(ds.y.values, 88.75 - 2.5 * np.arange(72))
    assert ds.mat.attrs["units"] == "°C" and ds["map"].attrs["units"] == "mm yr-1"
    assert "Kalnay" in ds.attrs["citation"] and "Xie" in ds.attrs["citation"]
    assert int(ds["map"].isnull().sum()) == 687  # CMAP cells without data (load_climate docs)
    # the cell holding Howland Forest (45.167 N, 68.667 W) is the one climate_at picks
    cell = ds.sel(y=46.25, x=-68.75)
    near = climate_at(45.167, -68.667).iloc[0]
    assert float(cell.mat) == near["mat"] and float(cell["map"]) == pytest.approx(974.28)
    # bilinear on the grid at the site: SOURCES.md's about 5.0 °C and 974 mm (tolerances of
    # tests/test_datasets.py::test_howland_forest)
    pt = ds.interp(y=45.167, x=-68.667)
    assert float(pt.mat) == pytest.approx(5.0, abs=0.5)
    assert float(pt["map"]) == pytest.approx(974.0, abs=25.0)


@needs_gdalinfo
def test_climate_grid_netcdf_and_cog_open_in_gdal(tmp_path):
    ds = load_climate_grid()
    nc = write_netcdf(ds, tmp_path / "climate.nc")
    info = gdalinfo_json(f'NETCDF:"{nc}":map')
    np.testing.assert_allclose(info["geoTransform"], [-180.0, 2.5, 0.0, 90.0, 0.0, -2.5])
    back = open_strict(nc)
    xr.testing.assert_identical(back.mat.reset_coords(drop=True), ds.mat.reset_coords(drop=True))
    files = write_cogs(ds, tmp_path / "cogs")
    text = gdalinfo(files[0])
    assert "LAYOUT=COG" in text and "Origin = (-180.000000000000000,90.000000000000000)" in text


# ------------------------------------------------------------------------------------- maps
def test_plot_grid_map(tmp_path):
    ds = load_climate_grid()
    path = plot_grid_map(ds["map"], tmp_path / "map.png", title="MAP")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputDataError, match="select one depth layer"):
        plot_grid_map(layered().soc_mean, tmp_path / "soc.png")
