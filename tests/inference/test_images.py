import dataclasses
import io
import json

import numpy as np
import pytest
import reverse_geocoder
import torch
from PIL import Image
from tests.helpers.serve_testdata import CONFIG, make_run, photo_bytes

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.inference.images import (
    BadImageError,
    place_names,
    predict_images,
    prepare_image,
)
from geovario.inference.predictor import Predictor


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Two good photos (JPEG, PNG), a truncated JPEG and a missing file, in that order."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "a.jpg").write_bytes(photo_bytes("JPEG", seed=1))
    (folder / "b.png").write_bytes(photo_bytes("PNG", seed=2))
    (folder / "cut.jpg").write_bytes(photo_bytes("JPEG", seed=3)[:-3000])
    return [folder / "a.jpg", folder / "b.png", folder / "cut.jpg", folder / "gone.jpg"]


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """A run on a backbone that cannot be loaded by name."""
    config = dataclasses.replace(CONFIG, backbone="synthetic", feature_dim=32)
    return make_run(tmp_path_factory.mktemp("synthetic"), config)[0]


def by_hand(predictor, backbone, path, k):
    """Oracle: Pillow, the backbone and the predictor called directly, one image at a time."""
    with Image.open(path) as image:
        pixels = backbone.preprocess(image)[None]
    out = predictor.predict_features(backbone.embed(pixels).numpy(), k=k)
    return out.topk_coords[0], out.topk_probs[0]


def test_predict_command_reports_bad_files_and_locates_the_rest(image_run, image_predictor,
                                                                image_backbone, photos, capsys):
    run, gallery = image_run
    code = main(["predict", str(run), *map(str, photos), "--gallery", str(gallery),
                 "--top-k", "3", "--json", "--device", "cpu"])
    assert code == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert (out["backbone"], out["gallery"]) == ("efficientnet-lite0", str(gallery))
    results = out["results"]
    assert [r["image"] for r in results] == list(map(str, photos))
    for path, result in zip(photos[:2], results[:2], strict=True):
        coords, probs = by_hand(image_predictor, image_backbone, path, 3)
        got = result["predictions"]
        np.testing.assert_allclose([[p["latitude"], p["longitude"]] for p in got], coords,
                                   atol=1e-6)
        np.testing.assert_allclose([p["probability"] for p in got], probs, rtol=1e-5)
        assert [p["place"] for p in got] == place_names(coords)
    assert results[2]["error"].startswith("not a decodable image (OSError: image file is "
                                          "truncated")
    assert results[3]["error"] == "cannot read (No such file or directory)"
    assert "2 of 4 images could not be used" in captured.err

    assert main(["predict", str(run), *map(str, photos), "--gallery", str(gallery),
                 "--top-k", "2", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(photos[0]) and lines[1].startswith("  1. ")
    assert lines[3] == str(photos[1])
    assert lines[6] == f"{photos[2]}: error: {results[2]['error']}"
    assert lines[7] == f"{photos[3]}: error: cannot read (No such file or directory)"


def test_only_bad_files_exit_2(image_run, photos, capsys):
    run, gallery = image_run
    assert main(["predict", str(run), str(photos[2]), str(photos[3]), "--gallery",
                 str(gallery), "--device", "cpu"]) == 2
    assert "2 of 2 images could not be used" in capsys.readouterr().err


def test_batches_do_not_change_results(image_predictor, image_backbone, photos):
    paths = [photos[0], photos[2], photos[1], photos[0]]
    one = predict_images(image_predictor, paths, k=4, batch_size=1)
    three = predict_images(image_predictor, paths, k=4, batch_size=3)
    assert [r.error is None for r in three] == [True, False, True, True]
    for a, b in zip(one, three, strict=True):
        assert (a.source, a.error) == (b.source, b.error)
        np.testing.assert_allclose([[g.latitude, g.longitude, g.probability] for g in a.guesses],
                                   [[g.latitude, g.longitude, g.probability] for g in b.guesses],
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(GeovarioError, match="predict_images: batch_size must be >= 1, got 0"):
        predict_images(image_predictor, paths, batch_size=0)


def test_prepare_image_reasons(image_backbone):
    with pytest.raises(BadImageError, match="^empty file$"):
        prepare_image(b"", image_backbone)
    with pytest.raises(BadImageError, match=r"^not a decodable image \(no image format"):
        prepare_image(b"%PDF-1.4 not a picture", image_backbone)
    with pytest.raises(BadImageError, match=r"^10 x 300 pixels: aspect ratio over 20:1$"):
        prepare_image(photo_bytes("PNG", size=(10, 300)), image_backbone)
    buffer = io.BytesIO()
    Image.new("I;16", (64, 48), 1000).save(buffer, "PNG")  # 16-bit grey is fine
    assert tuple(prepare_image(buffer.getvalue(), image_backbone).shape) == (3, 224, 224)

    class Refusing:
        def preprocess(self, image):
            raise ValueError("conversion from La to L not supported")

    with pytest.raises(BadImageError, match=r"^cannot convert a RGB image: conversion from La"):
        prepare_image(photo_bytes(), Refusing())


def test_place_names_are_city_region_country():
    assert place_names([[48.8566, 2.3522], [40.7128, -74.006], [-33.87, 151.21]]) == [
        "Paris, Ile-de-France, FR", "New York City, New York, US",
        "Sydney, New South Wales, AU"]
    assert place_names(np.empty((0, 2))) == []


def test_argument_errors(image_run, photos, synthetic_run, capsys):
    run, gallery = image_run
    common = ["--gallery", str(gallery), "--device", "cpu"]
    cases = [
        ([str(run), *common], "geovario predict: error: give image files or --store DIR\n"),
        ([str(run), str(photos[0]), "--store", str(run), *common],
         "give image files or --store DIR, not both"),
        ([str(run), str(photos[0]), "--ids", "x", *common], "--ids needs --store"),
        ([str(run), str(photos[0]), "--top-k", "0", *common],
         "--top-k and --batch-size must be >= 1, got 0 and 16"),
        ([str(run), str(photos[0]), "--top-k", "301", *common],
         "geovario predict: error: --top-k 301 is more than the 300 locations of gallery"),
        ([str(synthetic_run), str(photos[0]), *common],
         "unknown backbone 'synthetic'"),
    ]
    for argv, message in cases:
        assert main(["predict", *argv]) == 2
        assert message in capsys.readouterr().err


def test_a_backbone_that_does_not_fit_the_run(tmp_path):
    run, gallery = make_run(tmp_path, dataclasses.replace(CONFIG, feature_dim=64))
    predictor = Predictor(run, gallery=str(gallery), device="cpu")
    with pytest.raises(GeovarioError, match=r"run: backbone 'efficientnet-lite0' gives 1280-d "
                                            r"features, the run expects 64$"):
        predictor.load_backbone()


def test_store_mode_prints_places_too(image_run, image_predictor, image_backbone, photos,
                                      tmp_path, capsys):
    from geovario.store import StoreWriter, open_store

    run, gallery = image_run
    with Image.open(photos[0]) as a, Image.open(photos[1]) as b:
        features = image_backbone.embed(
            torch.stack([image_backbone.preprocess(a), image_backbone.preprocess(b)])).numpy()
    with StoreWriter(tmp_path / "store", backbone="efficientnet-lite0", dim=1280) as writer:
        writer.append(["a", "b"], np.array([[0.0, 0.0], [1.0, 1.0]]), features)
    assert main(["predict", str(run), "--store", str(tmp_path / "store"), "--ids", "b",
                 "--top-k", "3", "--gallery", str(gallery), "--device", "cpu", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)["results"]
    expected = image_predictor.predict_features(open_store(tmp_path / "store").features([1]),
                                                k=3)
    assert result["id"] == "b"
    np.testing.assert_allclose([[p["latitude"], p["longitude"]] for p in result["predictions"]],
                               expected.topk_coords[0], atol=1e-9)
    found = reverse_geocoder.search([tuple(c) for c in expected.topk_coords[0]], mode=1,
                                    verbose=False)
    assert [p["place"] for p in result["predictions"]] == [
        ", ".join(part for part in (f["name"], f["admin1"], f["cc"]) if part) for f in found]
