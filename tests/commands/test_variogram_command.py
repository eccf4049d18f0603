import json

import numpy as np
import pandas as pd
import pytest

from geovario.cli import main
from geovario.variogram import FittedVariogram, empirical_variogram, fit_variogram, standard_bins


@pytest.fixture
def inputs(tmp_path, sphere_points):
    coords = sphere_points(400, 11)
    rng = np.random.default_rng(11)
    # Features that drift smoothly with position plus noise: a real spatial structure.
    features = np.concatenate([np.cos(np.radians(coords)), np.sin(np.radians(coords))], axis=1)
    features = features[:, :, None].repeat(4, axis=2).reshape(400, -1)
    features = features + rng.normal(0, 0.3, features.shape)
    np.save(tmp_path / "features.npy", features.astype(np.float32))
    pd.DataFrame({"lat": coords[:, 0], "lon": coords[:, 1]}).to_csv(tmp_path / "coords.csv",
                                                                    index=False)
    return tmp_path, coords, features.astype(np.float32)


def test_json_output_file_and_plot(inputs, capsys):
    folder, coords, features = inputs
    out, plot = folder / "v.json", folder / "v.png"
    code = main(["variogram", str(folder / "features.npy"), str(folder / "coords.csv"),
                 "--bins", "12", "--max-km", "6000", "--family", "exponential",
                 "--out", str(out), "--plot", str(plot), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    for key in ("model", "nugget", "partial_sill", "sill", "range_km", "shape",
                "dissimilarity", "bins"):
        assert key in printed
    assert printed["shape"] is None and printed["model"] == "exponential"
    assert set(printed["bins"][0]) >= {"lag_km", "gamma", "pairs"}
    # The command's numbers are the library's on the same input.
    edges = standard_bins(coords, bins=12, max_km=6000)
    expected = fit_variogram(empirical_variogram(coords, features, edges),
                             model="exponential")
    assert printed["range_km"] == pytest.approx(expected.range_km, rel=1e-9)
    assert FittedVariogram.load(out).to_dict() == printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_store_input_gives_the_same_fit(inputs, capsys):
    from geovario.store import StoreWriter

    folder, coords, features = inputs
    with StoreWriter(folder / "store", backbone="synthetic", dim=features.shape[1]) as writer:
        writer.append([str(i) for i in range(len(coords))], coords, features)
    argv = ["--max-km", "6000", "--family", "exponential", "--json"]
    assert main(["variogram", "--store", str(folder / "store"), *argv]) == 0
    from_store = json.loads(capsys.readouterr().out)
    assert main(["variogram", str(folder / "features.npy"), str(folder / "coords.csv"),
                 *argv]) == 0
    from_files = json.loads(capsys.readouterr().out)
    # The store keeps float16 features: the fits agree to float16 precision.
    assert from_store["range_km"] == pytest.approx(from_files["range_km"], rel=1e-2)
    assert from_store["sill"] == pytest.approx(from_files["sill"], rel=1e-3)


def test_readable_table(inputs, capsys):
    folder, _, _ = inputs
    assert main(["variogram", str(folder / "features.npy"), str(folder / "coords.csv"),
                 "--max-km", "6000", "--family", "auto"]) == 0
    out = capsys.readouterr().out
    assert "range" in out and "km (practical" in out and "lag km" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing.npy", "coords.csv"], "missing.npy: no such file"),
        (["features.npy", "nope.csv"], "nope.csv: no such file"),
        (["features.npy", "short.csv"], "short.csv: 3 rows but"),
        (["features.npy", "nocols.csv"], "nocols.csv: no column 'latitude' or 'lat'"),
        (["features.npy"], "give FEATURES.npy and COORDS.csv, or --store DIR"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(inputs, capsys, monkeypatch, argv, message):
    folder, _, _ = inputs
    monkeypatch.chdir(folder)
    pd.DataFrame({"latitude": [0, 1, 2], "longitude": [0, 1, 2]}).to_csv("short.csv", index=False)
    pd.DataFrame({"x": [0], "y": [0]}).to_csv("nocols.csv", index=False)
    assert main(["variogram", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["variogram", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for default in ("(default: auto)", "(default: balanced)", "(default: 1.0)", "(default: 5)",
                    "(default: 30)", "(default: cosine)"):
        assert default in out, default


def test_defaults_are_log_bins_from_one_km_balanced_weights_and_auto(inputs, capsys):
    folder, coords, features = inputs
    assert main(["variogram", str(folder / "features.npy"), str(folder / "coords.csv"),
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["bins"][0]["low_km"] == 0.0 and printed["bins"][0]["high_km"] == 1.0
    assert printed["fit"]["weighting"] == "balanced"
    assert set(printed["fit"]["candidates_aicc"]) >= {"stable", "exponential+exponential"}
    assert list(printed["gamma_at_km"]) == ["1", "25", "200", "750", "2500"]
    # The same numbers as the library's defaults on the same input.
    expected = fit_variogram(empirical_variogram(coords, features))
    assert printed["model"] == expected.model
    assert printed["range_km"] == pytest.approx(expected.range_km, rel=1e-9)


def test_readable_summary_of_a_nested_fit(inputs, capsys):
    folder, _, _ = inputs
    assert main(["variogram", str(folder / "features.npy"), str(folder / "coords.csv"),
                 "--family", "exponential+gaussian"]) == 0
    out = capsys.readouterr().out
    assert "family        exponential+gaussian" in out
    assert "structure 1   exponential: partial sill" in out
    assert "structure 2   gaussian: partial sill" in out
    assert "effective range of the summed curve" in out and "slope range" in out
    assert "gamma at      1 km" in out and "2500 km" in out


def test_regions_write_a_regional_file_plot_and_table(tmp_path, capsys):
    """Two groups of places an ocean apart: two regions, each with its own curve."""
    from geovario.variogram.regional import RegionalVariogram, load_variogram

    rng = np.random.default_rng(3)
    coords = np.concatenate([np.stack([rng.uniform(35, 60, 300), rng.uniform(-10, 30, 300)], 1),
                             np.stack([rng.uniform(-40, 10, 300), rng.uniform(-75, -40, 300)],
                                      1)])
    features = np.concatenate([np.cos(np.radians(coords) * 8), np.sin(np.radians(coords))],
                              axis=1) + rng.normal(0, 0.2, (600, 4))
    np.save(tmp_path / "f.npy", features.astype(np.float32))
    pd.DataFrame({"lat": coords[:, 0], "lon": coords[:, 1]}).to_csv(tmp_path / "c.csv",
                                                                    index=False)
    out, plot = tmp_path / "regional.json", tmp_path / "regional.png"
    argv = ["variogram", str(tmp_path / "f.npy"), str(tmp_path / "c.csv"), "--model",
            "exponential", "--regions", "2", "--region-min-points", "50"]
    assert main([*argv, "--out", str(out), "--plot", str(plot)]) == 0
    table = capsys.readouterr().out
    assert "regions       2 (asked 2; at least 50 places each" in table
    assert "own fit km" in table and "family        exponential" in table
    regional = load_variogram(out)
    assert isinstance(regional, RegionalVariogram) and len(regional.regions) == 2
    assert sorted(r.points for r in regional.regions) == [300, 300]
    assert FittedVariogram.load(out).model == "exponential"  # a global reader still reads it
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == regional.to_dict()
    assert [r["points"] for r in printed["regional"]["regions"]] == [300, 300]


def auto_argv(tmp_path, kind, seed=0):
    """``variogram FEATURES COORDS --regions auto`` on a simulated two-cap field."""
    from tests.helpers.fields import two_cap_field

    coords, features = two_cap_field(kind, seed)
    np.save(tmp_path / f"{kind}.npy", features)
    pd.DataFrame({"lat": coords[:, 0], "lon": coords[:, 1]}).to_csv(tmp_path / f"{kind}.csv",
                                                                    index=False)
    return ["variogram", str(tmp_path / f"{kind}.npy"), str(tmp_path / f"{kind}.csv"),
            "--dissimilarity", "euclidean", "--family", "exponential", "--regions", "auto",
            "--region-candidates", "1,2,3,4,6", "--region-min-points", "50", "--region-folds",
            "1", "--seed", str(seed)]


def test_regions_auto_fits_the_chosen_regions_on_a_two_region_field(tmp_path, capsys):
    from geovario.variogram.regional import RegionalVariogram, load_variogram

    argv, out = auto_argv(tmp_path, "two"), tmp_path / "auto.json"
    assert main([*argv, "--out", str(out)]) == 0
    table = capsys.readouterr().out
    data = json.loads(out.read_text())
    selection = data["region_selection"]
    assert selection["chosen"] >= 2 and selection["rule"].startswith("one standard error")
    assert [c["requested"] for c in selection["candidates"]] == [1, 2, 3, 4, 6]
    assert selection["candidates"][0]["eligible"] is False
    assert (selection["fit_places"], selection["validation_places"]) == (800, 200)
    regional = load_variogram(out)
    assert isinstance(regional, RegionalVariogram) and len(regional.regions) >= 2
    assert regional.requested == selection["chosen"]
    assert "region choice 200 of 1,000 places held out at random (seed 0)" in table
    assert f"chosen        K = {selection['chosen']}: the fewest regions within one SE of " \
           "the best, refitted on all places" in table
    assert "region ranges " in table and "own fit km" in table
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data


def test_regions_auto_keeps_a_plain_global_fit_on_a_stationary_field(tmp_path, capsys):
    from geovario.variogram.regional import load_variogram

    argv, out = auto_argv(tmp_path, "stationary"), tmp_path / "auto.json"
    assert main([*argv, "--out", str(out)]) == 0
    table = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert "regional" not in data and data["region_selection"]["chosen"] == 1
    assert type(load_variogram(out)) is FittedVariogram
    assert "chosen        K = 1: the fewest regions within one SE of the best; the global " \
           "curve alone, no regions" in table
    assert "own fit km" not in table


@pytest.mark.parametrize(("extra", "message"), [
    (["--regions", "2", "--region-candidates", "1,2"],
     "--region-candidates needs --regions auto"),
    (["--regions", "auto", "--region-holdout", "1.5"],
     "--region-holdout must lie in (0, 1), got 1.5"),
    (["--regions", "auto", "--region-folds", "0"], "--region-folds must be at least 1, got 0"),
    (["--regions", "soon"], "argument --regions: expected a count or auto, got 'soon'"),
    (["--regions", "auto", "--region-candidates", "0,2"],
     "argument --region-candidates: every candidate must be >= 1, got '0,2'"),
    (["--regions", "auto", "--region-candidates", "two"],
     "argument --region-candidates: expected counts like 1,2,4, got 'two'"),
])
def test_bad_region_options_are_one_line(inputs, capsys, extra, message):
    folder, _, _ = inputs
    argv = ["variogram", str(folder / "features.npy"), str(folder / "coords.csv"), *extra]
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "variogram pairs" not in err  # refused before any work
