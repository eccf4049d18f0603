import json

import numpy as np
import pandas as pd
import pytest
import torch
from geopy.distance import great_circle

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.inference.evaluate import evaluate
from geovario.inference.gallery import (
    cache_key,
    cached_gallery_embeddings,
    encode_gallery,
    load_gallery,
)
from geovario.inference.predictor import Predictor
from geovario.store import open_store


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor(trained / "run", gallery=f"store:{trained / 'train'}", device="cpu")


def test_gallery_sources(trained, tmp_path):
    assert load_gallery("geoclip").coords.shape == (100_000, 2)
    store_gallery = load_gallery(f"store:{trained / 'train'}")
    assert len(store_gallery) == len(np.unique(open_store(trained / "train").coords, axis=0))
    pd.DataFrame({"LAT": [1.0, 2.0], "LON": [3.0, 4.0]}).to_csv(tmp_path / "g.csv", index=False)
    np.testing.assert_array_equal(load_gallery(str(tmp_path / "g.csv")).coords,
                                  [[1, 3], [2, 4]])
    pd.DataFrame({"lat": [1.0, 95.0], "lon": [3.0, 4.0]}).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(GeovarioError, match=r"b.csv: 1 invalid coordinates .* line 3"):
        load_gallery(str(tmp_path / "b.csv"))


def test_cached_gallery_equals_uncached_and_survives_damage(predictor, tmp_path, capsys):
    model, gallery = predictor.model, predictor.gallery
    plain = encode_gallery(model, gallery, torch.device("cpu"))
    first = cached_gallery_embeddings(model, gallery, tmp_path, torch.device("cpu"))
    again = cached_gallery_embeddings(model, gallery, tmp_path, torch.device("cpu"))
    torch.testing.assert_close(first, plain, rtol=0, atol=0)
    torch.testing.assert_close(again, plain, rtol=0, atol=0)
    (cache_file,) = tmp_path.glob("gallery-*.safetensors")
    data = bytearray(cache_file.read_bytes())
    data[-100:] = bytes(100)  # damage the embeddings' last bytes
    cache_file.write_bytes(bytes(data))
    rebuilt = cached_gallery_embeddings(model, gallery, tmp_path, torch.device("cpu"))
    torch.testing.assert_close(rebuilt, plain, rtol=0, atol=0)
    assert "is damaged; rebuilding it" in capsys.readouterr().err
    # Another gallery, or changed weights, give another key.
    other = load_gallery("geoclip")
    assert cache_key(model.location_encoder, other) != cache_key(model.location_encoder, gallery)


def test_predictions_are_near_the_truth_and_refine_works(predictor, trained):
    store = open_store(trained / "test")
    out = predictor.predict_features(store.features(np.arange(200)), k=5)
    assert out.topk_coords.shape == (200, 5, 2) and out.topk_probs.shape == (200, 5)
    assert np.all(np.diff(out.topk_probs, axis=1) <= 1e-7)
    errors = [great_circle(p, t, radius=6371).km for p, t in zip(out.coords, store.coords,
                                                                strict=True)]
    # Random guessing on a sphere has a median error of ~10,000 km.
    assert np.median(errors) < 3000
    refined = predictor.predict_features(store.features(np.arange(200)), k=1, refine=5)
    assert not np.allclose(refined.coords, out.coords)


def test_evaluate_matches_the_metrics_command_on_its_own_csv(predictor, trained, tmp_path,
                                                             capsys):
    metrics = evaluate(predictor, trained / "test", predictions_csv=tmp_path / "p.csv")
    table = pd.read_csv(tmp_path / "p.csv", dtype={"id": str})
    expected_error = [great_circle((r.latitude, r.longitude), (r.true_latitude,
                                                               r.true_longitude),
                                   radius=6371).km for r in table.itertuples()]
    np.testing.assert_allclose(table.error_km, expected_error, rtol=1e-7, atol=1e-6)
    table[["id", "true_latitude", "true_longitude"]].rename(
        columns={"true_latitude": "latitude", "true_longitude": "longitude"}).to_csv(
        tmp_path / "truth.csv", index=False)
    assert main(["metrics", str(tmp_path / "p.csv"), "--truth", str(tmp_path / "truth.csv"),
                 "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    assert from_cli == pytest.approx(metrics)


def test_bad_predictor_input(predictor):
    with pytest.raises(GeovarioError, match=r"features of shape \(3, 5\), the run expects"):
        predictor.predict_features(np.zeros((3, 5)))
    with pytest.raises(GeovarioError, match="features come from backbone 'clip:x'"):
        predictor.check_backbone("clip:x", "some-store")


def test_evaluate_and_predict_commands(trained, capsys):
    common = ["--gallery", f"store:{trained / 'train'}", "--device", "cpu"]
    assert main(["evaluate", str(trained / "run"), "--store", str(trained / "test"),
                 "--json", *common]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n"] == 200 and "acc_25km" in printed
    assert (trained / "run" / "predictions-test.csv").is_file()
    assert main(["predict", str(trained / "run"), "--store", str(trained / "test"),
                 "--ids", "s3,s7", "--top-k", "3", "--json", *common]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in result["results"]] == ["s3", "s7"]
    assert len(result["results"][0]["predictions"]) == 3
    assert main(["predict", str(trained / "run"), "--store", str(trained / "test"),
                 "--ids", "nope", *common]) == 2
    assert "1 ids not found: nope" in capsys.readouterr().err
