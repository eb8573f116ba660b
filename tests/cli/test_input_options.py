"""One set of input options for every command that reads a user's table (issue 24, item 3).

The commands are enumerated from the command line itself (``typer.main.get_command``): every
argument whose help says it reads a table must belong to a command in
:data:`wholesoil.cli._common.TABLE_COMMANDS` (or be listed, with its reason, in
``OTHER_TABLES``), so a new command cannot silently miss the options. Each registered command
then runs once on a small table whose columns carry the user's own names (and depths in metres),
read through the options; the reference numbers are unit conversions (1 m = 100 cm, 1 kg m-2 =
10 Mg ha-1, 1 % = 10 g kg-1) and the tables' own values.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from wholesoil.cli import app
from wholesoil.cli._common import (
    INPUT_OPTIONS,
    INPUT_PANEL,
    INPUT_REF,
    OPTION_TABLES,
    OTHER_TABLES,
    TABLE_COMMANDS,
)

runner = CliRunner()

ALL = set(INPUT_OPTIONS)
#: What each command takes and, when fewer than all, why (the registry must say the same).
EXPECTED: dict[str, tuple[set[str], str]] = {
    "qc": (ALL, ""),
    "harmonize": (ALL, ""),
    "density": (ALL, ""),
    "beta": (ALL, ""),
    # the next four write tables of their own making, always under wholesoil's names
    "inputs": (ALL - {"--canonical-names"}, "standard-layer tables are wholesoil's"),
    "assimilate": (ALL - {"--canonical-names"}, "writes calibrations"),
    "proda e2e": (ALL - {"--canonical-names"}, "writes a network and fits"),
    "c14 profile": (ALL - {"--canonical-names"}, "writes ages; --format israd or table"),
    # a training table: CSV/Parquet only (no reader registry), the model keeps names as read
    "train": (ALL - {"--format", "--canonical-names"}, "a training table"),
    # tables of observations or covariates: no profile keys, no reader registry
    "predict": ({"--column-map", "--units"}, "covariate table"),
    "mixed": ({"--column-map", "--units"}, "observations"),
    "anova": ({"--column-map", "--units"}, "observations"),
}

#: Options whose help differs from the shared one, with the reason.
OWN_HELP = {
    ("train", "--id-column"): "a second name of --groups (CV never splits a profile)",
    ("c14 profile", "--format"): "israd (default) or table: the Δ14C readers, not the registry",
}

#: Words by which an argument's help says that it reads a table.
TABLE_WORDS = re.compile(r"\b(table|csv|parquet|horizons?|layers?)\b", re.IGNORECASE)


def _commands() -> dict[str, object]:
    out = {}

    def walk(prefix: str, cmd: object) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            path = f"{prefix} {name}".strip()
            if getattr(sub, "commands", None):
                walk(path, sub)
            else:
                out[path] = sub

    walk("", typer.main.get_command(app))
    return out


COMMANDS = _commands()


def _options(cmd) -> dict[str, object]:
    return {o: p for p in cmd.params if p.param_type_name == "option" for o in p.opts}


def test_every_table_argument_is_registered():
    found = set()
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            if p.param_type_name != "argument" or not TABLE_WORDS.search(p.help or ""):
                continue
            if path in OTHER_TABLES or f"{path} {p.name}" in OTHER_TABLES:
                continue
            assert path in TABLE_COMMANDS, (
                f"'wholesoil {path}' reads a table ({p.name}: {p.help!r}) but is not in "
                "TABLE_COMMANDS (wholesoil/cli/_common.py): give it the input options")
            assert TABLE_COMMANDS[path].argument == p.name, path
            found.add(path)
    assert found == set(TABLE_COMMANDS)
    assert set(EXPECTED) == set(TABLE_COMMANDS)


@pytest.mark.parametrize("path", list(TABLE_COMMANDS))
def test_each_table_command_takes_the_input_options(path):
    entry = TABLE_COMMANDS[path]
    want, _reason = EXPECTED[path]
    assert set(entry.options) == want, path
    assert entry.why or want == ALL, f"{path} takes fewer input options and must say why"
    opts = _options(COMMANDS[path])
    for o in want:
        assert o in opts, f"wholesoil {path} lacks {o}"
        p = opts[o]
        assert p.rich_help_panel == INPUT_PANEL, (path, o)
        if (path, o) not in OWN_HELP:
            shared = INPUT_OPTIONS[o]
            assert p.help.replace("\\[", "[") == shared or o == "--format", (path, o)
    for o in ALL - want:
        assert o not in opts, f"wholesoil {path} takes {o}; register it in TABLE_COMMANDS"
    arg = next(p for p in COMMANDS[path].params if p.name == entry.argument)
    assert INPUT_REF in arg.help, f"the table argument of {path} refers to Input options"


#: Tables read through an option: the words by which an option's help says so.
OPTION_TABLE_WORDS = re.compile(r"\btable of\b", re.IGNORECASE)


def test_every_table_option_is_registered():
    """An option that reads a user's table (``simulate --sites``) takes --column-map and
    --units, like the flat readers."""
    found = set()
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            if p.param_type_name == "option" and OPTION_TABLE_WORDS.search(p.help or ""):
                assert path in OPTION_TABLES, (path, p.name, p.help)
                assert OPTION_TABLES[path].argument == p.name
                found.add(path)
    assert found == set(OPTION_TABLES)
    for path, entry in OPTION_TABLES.items():
        opts = _options(COMMANDS[path])
        assert set(entry.options) == {"--column-map", "--units"} and entry.why
        for o in entry.options:
            assert opts[o].help.replace("\\[", "[") == INPUT_OPTIONS[o], (path, o)
            assert opts[o].rich_help_panel == INPUT_PANEL


def test_simulate_reads_sites_under_the_users_names(tmp_path):
    sites = tmp_path / "my_sites.csv"
    sites.write_text("site_id,T_mean,P_annual\na,8.5,800\nb,2.0,450\n")
    out = tmp_path / "sim"
    _run(["simulate", "--sites", sites, "--column-map", "T_mean=mat,P_annual=map", "--out", out])
    ref = tmp_path / "ref"
    sites2 = tmp_path / "plain.csv"
    sites2.write_text("site_id,mat,map\na,8.5,800\nb,2.0,450\n")
    _run(["simulate", "--sites", sites2, "--out", ref])
    a = pd.read_csv(out / "tables" / "layer_stocks.csv")
    b = pd.read_csv(ref / "tables" / "layer_stocks.csv")
    pd.testing.assert_frame_equal(a, b)


def test_the_input_options_are_documented_once():
    from wholesoil.cli._common import registry_help

    res = runner.invoke(app, ["harmonize", "--help"], env={"COLUMNS": "200"})
    assert INPUT_PANEL in res.output
    import importlib.util
    from pathlib import Path

    gen = Path(__file__).resolve().parents[2] / "docs" / "_gen" / "cli.py"
    spec = importlib.util.spec_from_file_location("_gen_cli_for_input_options", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    page = mod.render()
    assert page.count("## Input options") == 1
    for text in INPUT_OPTIONS.values():  # each meaning written once on the page
        assert page.count(mod._text(registry_help(text))) == 1, text
    for path in TABLE_COMMANDS:
        assert f"| `{path}` |" in page


# ----------------------------------------------------------------------------- real runs
#: The user's profile keys and depths in metres, read through the options.
KEYS = ["--id-column", "pedon", "--top-column", "hz_top", "--bottom-column", "hz_bot",
        "--units", "hz_top=m,hz_bot=m"]


def _horizons(tmp_path):
    path = tmp_path / "my_horizons.csv"
    path.write_text(
        "pedon,hz_top,hz_bot,OC_pct,BD,dens_kgm2\n"
        "A,0,0.1,3.5,1.2,0.42\nA,0.1,0.3,2.0,1.3,0.31\nA,0.3,0.6,1.0,1.4,0.2\n"
        "A,0.6,1.0,0.5,1.5,0.12\nB,0,0.2,2.5,1.1,0.5\nB,0.2,0.5,1.5,1.3,0.4\n"
        "B,0.5,1.0,0.6,1.4,0.25\n")
    return path


def _layers(tmp_path):
    """Inputs/assimilate/Δ14C layers: stocks [Mg C ha-1 per layer], ages, climate, Δ14C."""
    rows = ["pedon,hz_top,hz_bot,stock,age,MAT,MAP,lat_deg,lon_deg,D14,yr,dens_kgm2"]
    for pid, mat, mapp, lat in (("A", 8, 800, 45), ("B", 4, 600, 55)):
        for i, (t, b) in enumerate(((0, .2), (.2, .4), (.4, .6), (.6, .8), (.8, 1.0))):
            rows.append(f"{pid},{t},{b},{30 - 5 * i},{300 * (1 + 2 * i)},{mat},{mapp},{lat},10,"
                        f"{50 - 80 * i},2005,{0.6 - 0.1 * i}")
    path = tmp_path / "my_layers.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _sites(tmp_path):
    rows = ["site,T,P,clay_pct,OC_pct,biome"]
    for i in range(24):
        t, p, c = 2 + (i * 7) % 18, 300 + (i * 137) % 1200, 5 + (i * 11) % 35
        rows.append(f"s{i // 2},{t},{p},{c},{(1 + 0.05 * c - 0.03 * t) / 10:.4f},"
                    f"{('forest', 'grass', 'crop')[i % 3]}")
    path = tmp_path / "my_sites.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


TRAIN = ["--target", "soc", "--features", "T,P,clay_pct", "--id-column", "site",
         "--column-map", "OC_pct=soc,T=mat,P=map,clay_pct=clay", "--units", "soc=%",
         "--folds", "2", "--param", "n_estimators=10"]
LAYERS = ["--column-map", "stock=soc_stock,age=c_age,MAT=mat,MAP=map,lat_deg=lat,lon_deg=lon"]
CALIBRATION = [*KEYS[:6], "--units", "hz_top=m,hz_bot=m,dens_kgm2=kg/m2", "--column-map",
               "dens_kgm2=soc_density,MAT=mat,MAP=map,lat_deg=lat,lon_deg=lon"]


def _col(table, *names):
    """The column called one of ``names`` (the user's or wholesoil's), with or without a unit
    in brackets."""
    return next(c for c in table.columns if c.split(" [")[0] in names)


def _run(args):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def _check_qc(tmp_path):
    _run(["qc", _horizons(tmp_path), *KEYS[:6], "--column-map", "OC_pct=soc", "--units",
          "hz_top=m,hz_bot=m,soc=%", "-o", tmp_path / "q.csv"])
    out = pd.read_csv(tmp_path / "q.csv")
    assert out[_col(out, "hz_bot", "bottom")].max() == pytest.approx(100.0)  # 1.0 m
    assert out[_col(out, "OC_pct", "soc")].iloc[0] == pytest.approx(35.0)  # 3.5 % = 35 g kg-1


def _check_harmonize(tmp_path):
    _run(["harmonize", _horizons(tmp_path), *KEYS, "--column-map", "OC_pct=soc",
          "--variable", "soc", "--depths", "0,30,100", "-o", tmp_path / "h.csv"])
    assert len(pd.read_csv(tmp_path / "h.csv")) == 4  # 2 profiles × 2 layers


def _check_density(tmp_path):
    _run(["density", _horizons(tmp_path), *KEYS[:6], "--column-map", "OC_pct=soc,BD=bd",
          "--units", "hz_top=m,hz_bot=m,soc=%", "-o", tmp_path / "d.csv"])
    out = pd.read_csv(tmp_path / "d.csv")
    # Wang H. et al. (2025) Eq. 1 without gravel: 35 g kg-1 × 1.2 g cm-3 × 10 cm / 10
    assert out[_col(out, "soc_density")].iloc[0] == pytest.approx(35 * 1.2 * 10 / 10)


def _check_beta(tmp_path):
    _run(["beta", _horizons(tmp_path), *KEYS[:6], "--column-map", "dens_kgm2=soc_density",
          "--units", "hz_top=m,hz_bot=m,dens_kgm2=kg/m2", "-o", tmp_path / "b.csv"])
    assert len(pd.read_csv(tmp_path / "b.csv")) == 2


def _check_inputs(tmp_path):
    _run(["inputs", _layers(tmp_path), *KEYS, *LAYERS, "--draws", "5",
          "--depths", "0,20,40,60,80,100", "--out", tmp_path / "i"])
    lay = pd.read_csv(tmp_path / "i" / "tables" / "layers.csv")
    stock, bottom = _col(lay, "stock"), _col(lay, "bottom")
    assert lay[stock].iloc[0] == pytest.approx(30.0) and lay[bottom].iloc[0] == 20.0


def _check_assimilate(tmp_path):
    _run(["assimilate", _layers(tmp_path), *CALIBRATION, "--iterations", "10,20",
          "--chains", "1", "--out", tmp_path / "a"])
    assert (tmp_path / "a" / "tables" / "parameters.csv").exists()


def _check_proda_e2e(tmp_path):
    _run(["proda", "e2e", _layers(tmp_path), "climate", *CALIBRATION, "--max-epochs", "2",
          "--patience", "1", "--hidden", "4", "--device", "cpu", "--out", tmp_path / "e"])
    assert (tmp_path / "e" / "run.json").exists()


def _check_c14_profile(tmp_path):
    _run(["c14", "profile", _layers(tmp_path), "--format", "table", *KEYS, "--column-map",
          "D14=d14c,yr=year,lat_deg=lat", "--out", tmp_path / "c"])
    ages = pd.read_csv(tmp_path / "c" / "tables" / "ages.csv")
    assert len(ages) == 10 and ages["bottom"].max() == pytest.approx(100.0)


def _check_train(tmp_path):
    _run(["train", _sites(tmp_path), *TRAIN, "--out", tmp_path / "m"])
    import json

    meta = json.loads((tmp_path / "m" / "model" / "model.json").read_text())
    assert meta["features"] == ["mat", "map", "clay"] and meta["units"] == "g kg-1"


def _check_predict(tmp_path):
    sites = _sites(tmp_path)
    _run(["train", sites, *TRAIN, "--out", tmp_path / "m"])
    _run(["predict", tmp_path / "m" / "model", sites, "--column-map", "T=mat,P=map,clay_pct=clay",
          "--keep", "site", "-o", tmp_path / "p.csv"])
    assert len(pd.read_csv(tmp_path / "p.csv")) == 24


def _check_mixed(tmp_path):
    _run(["mixed", _sites(tmp_path), "--column-map", "OC_pct=soc,T=mat", "--units", "soc=%",
          "--formula", "soc ~ mat", "--group", "biome", "--out", tmp_path / "x"])
    assert (tmp_path / "x" / "tables" / "report.csv").exists()


def _check_anova(tmp_path):
    _run(["anova", _sites(tmp_path), "--column-map", "OC_pct=soc", "--units", "soc=%",
          "--response", "soc", "--group", "biome", "--out", tmp_path / "v"])
    groups = pd.read_csv(tmp_path / "v" / "tables" / "groups.csv")
    sites = pd.read_csv(_sites(tmp_path))
    assert groups["mean"].mean() == pytest.approx(  # % → g kg-1: × 10
        10 * sites.groupby("biome")["OC_pct"].mean().mean())


RUNS = {
    "qc": _check_qc, "harmonize": _check_harmonize, "density": _check_density,
    "beta": _check_beta, "inputs": _check_inputs, "assimilate": _check_assimilate,
    "proda e2e": _check_proda_e2e, "c14 profile": _check_c14_profile, "train": _check_train,
    "predict": _check_predict, "mixed": _check_mixed, "anova": _check_anova,
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("path", list(TABLE_COMMANDS))
def test_each_table_command_reads_the_users_names(path, tmp_path):
    assert path in RUNS, f"add a tiny run of 'wholesoil {path}' with renamed columns to RUNS"
    RUNS[path](tmp_path)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("args, column, option", [
    (["harmonize", "{h}", "--variable", "OC_pct", "-o", "{o}/h.csv"], "pedon", "--id-column"),
    (["harmonize", "{h}", *KEYS, "--variable", "soc", "-o", "{o}/h.csv"], "soc",
     "--column-map YOUR_NAME=soc"),
    (["inputs", "{l}", *KEYS, "--out", "{o}/i"], "soc_stock", "--column-map YOUR_NAME=soc_stock"),
    (["train", "{s}", "--target", "soc", "--features", "T", "--out", "{o}/m"], "soc",
     "--column-map YOUR_NAME=soc"),
    (["anova", "{s}", "--response", "soc", "--group", "biome", "--out", "{o}/v"], "soc",
     "--column-map YOUR_NAME=soc"),
])
def test_a_missing_column_names_file_column_option_and_next_step(args, column, option,
                                                                 tmp_path):
    files = {"h": _horizons(tmp_path), "l": _layers(tmp_path), "s": _sites(tmp_path),
             "o": tmp_path}
    res = runner.invoke(app, [a.format(**files) for a in args])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert text.startswith("error: my_"), text  # the user's file
    assert repr(column) in text or f"'{column}'" in text, text
    assert option in text, text


def test_an_unknown_unit_names_the_column_and_the_accepted_units(tmp_path):
    res = runner.invoke(app, ["anova", str(_sites(tmp_path)), "--column-map", "OC_pct=soc",
                              "--units", "OC_pct=furlongs", "--response", "soc", "--group",
                              "biome", "--out", str(tmp_path / "v")])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "my_sites.csv" in text and "'OC_pct'" in text and "'g/kg'" in text, text


def test_a_unit_for_a_column_wholesoil_cannot_convert_names_the_next_step(tmp_path):
    res = runner.invoke(app, ["qc", str(_horizons(tmp_path)), *KEYS[:6], "--units",
                              "OC_pct=%", "-o", str(tmp_path / "q.csv")])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "my_horizons.csv" in text and "'OC_pct'" in text, text
    assert "next step" in text and "--column-map OC_pct=NAME" in text, text


def test_flat_readers_read_wholesoil_headers(tmp_path):
    """Tables of results carry ``NAME [UNIT]`` headers (issue 24 item 5); the flat readers
    (train, predict, mixed, anova, simulate --sites) match them by NAME and convert a known
    unit, so `beta`'s fits feed `anova` unchanged."""
    from wholesoil.workflows._read import read_any_table

    path = tmp_path / "fits.csv"
    path.write_text("pedon,depth_to [m],beta [-],soc [%],group\n"
                    "A,1.0,0.95,2.5,x\nB,0.5,0.97,1.0,y\nC,1.5,0.96,3.0,x\n")
    df, _ = read_any_table(path, column_map={"depth_to": "bottom"})
    assert list(df.columns) == ["pedon", "bottom", "beta", "soc", "group"]
    assert df["bottom"].tolist() == [100.0, 50.0, 150.0]  # m → cm
    assert df["soc"].tolist() == [25.0, 10.0, 30.0]  # % → g kg-1
    with pytest.raises(Exception, match="the header says the unit is"):
        read_any_table(path, units={"soc": "g/kg"})
    rows = ["profile,grp,beta [-]"] + [f"p{i},{'ab'[i % 2]},{0.9 + 0.01 * (i % 5)}"
                                      for i in range(12)]
    (tmp_path / "b.csv").write_text("\n".join(rows) + "\n")
    _run(["anova", tmp_path / "b.csv", "--response", "beta", "--group", "grp", "--out",
          tmp_path / "aov"])
