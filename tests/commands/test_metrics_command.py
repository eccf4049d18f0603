import json
import re
import subprocess
import sys

import pytest

import geovario.cli as cli

TRUTH = (
    "id,latitude,longitude,unique_country,unique_region,unique_sub-region,unique_city\n"
    "1,48.8566,2.3522,FR,Ile-de-France_FR,Paris_Ile-de-France_FR,Paris_Paris_Ile-de-France_FR\n"
    "2,40.7128,-74.0060,US,New York_US,_New York_US,NaN\n"
)
DISTANCE_KEYS = ["n", "mean_km", "median_km", "geoscore", "acc_1km", "acc_25km", "acc_200km",
                 "acc_750km", "acc_2500km"]
ADMIN_KEYS = ["acc_country", "acc_region", "acc_subregion", "acc_city"]


@pytest.fixture
def files(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text(TRUTH)
    pred = tmp_path / "pred.csv"
    # id 1 exactly right; id 2 is 1 degree of latitude (111.19 km) south of the truth
    pred.write_text("id,lat,lon\n2,39.7128,-74.0060\n1,48.8566,2.3522\n")
    return pred, truth


def run_json(capsys, *argv):
    assert cli.main(["metrics", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keys_and_values(files, capsys):
    pred, truth = files
    out = run_json(capsys, str(pred), "--truth", str(truth))
    assert list(out) == DISTANCE_KEYS
    assert out["n"] == 2
    assert out["median_km"] == pytest.approx(111.19492664455873 / 2, rel=1e-9)
    assert (out["acc_25km"], out["acc_200km"]) == (0.5, 1.0)


def test_json_with_admin(files, capsys):
    pred, truth = files
    out = run_json(capsys, str(pred), "--truth", str(truth), "--admin")
    assert list(out) == DISTANCE_KEYS + ADMIN_KEYS
    # id 2 lands in New Jersey (US, wrong region); its city label is missing
    assert out["acc_country"] == 1.0
    assert out["acc_region"] == 0.5
    assert out["acc_city"] == 1.0


def test_json_null_when_no_true_labels(tmp_path, capsys):
    truth = tmp_path / "truth.csv"
    truth.write_text(TRUTH.replace("Paris_Paris_Ile-de-France_FR", ""))
    pred = tmp_path / "pred.csv"
    pred.write_text("id,LAT,LON\n1,48.8566,2.3522\n2,40.7128,-74.0060\n")
    out = run_json(capsys, str(pred), "--truth", str(truth), "--admin")
    assert out["acc_city"] is None
    assert out["acc_country"] == 1.0


def test_table_output(files, capsys):
    pred, truth = files
    assert cli.main(["metrics", str(pred), "--truth", str(truth), "--admin"]) == 0
    text = capsys.readouterr().out
    assert [line.split()[0] for line in text.splitlines()] == DISTANCE_KEYS + ADMIN_KEYS
    assert re.search(r"^acc_25km +50\.00 %$", text, re.MULTILINE)
    assert re.search(r"^median_km +55\.60 km$", text, re.MULTILINE)


def test_mismatched_ids_exit_2_with_count(files, capsys):
    pred, truth = files
    pred.write_text("id,lat,lon\n1,0,0\n3,0,0\n4,0,0\n")
    assert cli.main(["metrics", str(pred), "--truth", str(truth)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "2 only in" in lines[0] and "(first: 3, 4)" in lines[0]
    assert "1 only in" in lines[0] and "(first: 2)" in lines[0]


def test_bad_file_exit_2_names_file(files, capsys):
    pred, truth = files
    pred.write_text("id,lat,lon\n1,0,0\n2,0,999\n")
    assert cli.main(["metrics", str(pred), "--truth", str(truth)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geovario metrics: error: ") and "pred.csv" in err
    assert "at ids 2 " in err and "\n" not in err


def test_admin_needs_label_columns(files, capsys):
    pred, truth = files
    truth.write_text("id,latitude,longitude\n1,0,0\n2,0,0\n")
    assert cli.main(["metrics", str(pred), "--truth", str(truth), "--admin"]) == 2
    assert "truth.csv: no column 'unique_country'" in capsys.readouterr().err


@pytest.mark.slow
def test_stdout_is_pure_json_in_a_fresh_process(files):
    # reverse_geocoder prints while loading; a fresh process is the only honest check.
    pred, truth = files
    code = "import sys, geovario.cli as c; sys.exit(c.main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "metrics", str(pred), "--truth",
                           str(truth), "--admin", "--json"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert list(json.loads(done.stdout)) == DISTANCE_KEYS + ADMIN_KEYS
