import json

import pytest

from geovario.cli import main


@pytest.mark.slow
def test_quick_demo_writes_a_report_with_both_models(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--workers", "1"]) == 0
    assert "Report:" in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "| metric | GeoCLIP (InfoNCE) | semivariogram loss | difference |" in report
    for key in ("geoscore", "acc_25km", "acc_country", "median_km"):
        assert f"| {key} |" in report
    for figure in ("variogram.png", "figures/error_cdf.png", "figures/error_map.png",
                   "figures/examples.png", "figures/negatives.png"):
        assert f"]({figure})" in report
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5
    for run in ("infonce", "semivariogram"):
        metrics = json.loads((out / "runs" / run / "evaluation.json").read_text())
        assert metrics["n"] == 100
    timings = json.loads((out / "timings.json").read_text())
    # A rerun reuses every stage: no training, extraction or evaluation again.
    assert main(["demo", "--quick", "--out", str(out), "--workers", "1"]) == 0
    rerun = json.loads((out / "timings.json").read_text())
    assert rerun["train and evaluate semivariogram"] < 0.2 * timings[
        "train and evaluate semivariogram"]
