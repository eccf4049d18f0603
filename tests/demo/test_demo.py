import json

import pytest

from geovario.cli import main


@pytest.mark.slow
def test_quick_demo_writes_a_report_with_both_models(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", str(out), "--workers", "1"]) == 0
    log = capsys.readouterr().out
    assert "Report:" in log
    # The stage table: where the time and memory went, one line per stage and a total.
    for stage in ("extract EfficientNet-Lite0 features", "train infonce",
                  "embed the 100K gallery for semivariogram", "evaluate semivariogram",
                  "write the report", "total"):
        assert f"demo: {stage} " in log
    report = (out / "report.md").read_text()
    assert ("| metric | GeoCLIP (InfoNCE) | semivariogram loss | difference [95 % CI] |"
            in report)
    assert "Read with the intervals:" in report and "interleaved layout" in report
    assert "hard negatives, share of negatives beyond the range" in report
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
    # A rerun reuses every stage: nothing is trained, extracted or evaluated again.
    stamp = (out / "runs" / "semivariogram" / "model.safetensors").stat().st_mtime_ns
    assert main(["demo", "--quick", str(out), "--workers", "1"]) == 0
    assert (out / "runs" / "semivariogram" / "model.safetensors").stat().st_mtime_ns == stamp
    assert "(reusing it)" in capsys.readouterr().out
    assert "built by an earlier run, reused" in (out / "report.md").read_text()
