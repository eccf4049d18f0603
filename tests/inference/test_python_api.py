"""``from geovario import Predictor``: photos in, guesses out; folders for ``geovario predict``."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from tests.helpers.serve_testdata import photo_bytes

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.inference.gallery import cached_gallery_embeddings
from geovario.inference.images import Guess, place_names


def by_hand(predictor, backbone, data: bytes, k: int) -> list[Guess]:
    """Oracle: Pillow, the backbone, predict_features and the place table, one image."""
    pixels = backbone.preprocess(Image.open(io.BytesIO(data)))[None]
    out = predictor.predict_features(backbone.embed(pixels).numpy(), k=k)
    names = place_names(out.topk_coords[0])
    return [Guess(float(lat), float(lon), float(p), name) for (lat, lon), p, name
            in zip(out.topk_coords[0], out.topk_probs[0], names, strict=True)]


def assert_guesses(got: list[Guess], expected: list[Guess]) -> None:
    assert all(isinstance(guess, Guess) for guess in got)
    assert [g.place for g in got] == [g.place for g in expected]
    np.testing.assert_allclose([[g.latitude, g.longitude, g.probability] for g in got],
                               [[g.latitude, g.longitude, g.probability] for g in expected],
                               rtol=1e-5, atol=1e-6)


def test_import_from_the_package_top_stays_light(modules_loaded_by):
    assert modules_loaded_by("import geovario", ("torch", "PIL", "transformers")) == []
    assert modules_loaded_by("from geovario import Predictor; assert Predictor.predict",
                             ("geovario.inference.predictor",)) == [
        "geovario.inference.predictor"]


def test_predict_takes_a_path_bytes_a_pil_image_or_a_list(image_predictor, image_backbone,
                                                          tmp_path):
    from geovario import Predictor

    assert isinstance(image_predictor, Predictor)
    data = [photo_bytes("JPEG", seed=11), photo_bytes("PNG", seed=12)]
    expected = [by_hand(image_predictor, image_backbone, d, 4) for d in data]
    (tmp_path / "a.jpg").write_bytes(data[0])
    assert_guesses(image_predictor.predict(tmp_path / "a.jpg", top_k=4), expected[0])
    assert_guesses(image_predictor.predict(str(tmp_path / "a.jpg"), top_k=4), expected[0])
    assert_guesses(image_predictor.predict(data[1], top_k=4), expected[1])
    assert_guesses(image_predictor.predict(Image.open(io.BytesIO(data[1])), top_k=4),
                   expected[1])
    both = image_predictor.predict([tmp_path / "a.jpg", data[1]], top_k=4, batch_size=1)
    assert len(both) == 2
    for got, want in zip(both, expected, strict=True):
        assert_guesses(got, want)
    assert image_predictor.predict([]) == []
    default = image_predictor.predict(data[0])
    assert len(default) == 5 and [g.probability for g in default] == sorted(
        [g.probability for g in default], reverse=True)


def test_predict_names_the_bad_image(image_predictor, tmp_path):
    good = photo_bytes(seed=13)
    cases = [
        (tmp_path / "gone.jpg", f"{tmp_path / 'gone.jpg'}: cannot read (No such file or "
                                "directory)"),
        ([good, b"%PDF-1.4"], "image 1 (bytes): not a decodable image (no image format "
                              "Pillow knows)"),
        (tmp_path, f"{tmp_path}: a folder, not an image (geovario predict RUN FOLDER reads "
                   "the images in it)"),
        (np.zeros((2, 1280)), "predict: image 0 is a ndarray; give a path, bytes or a PIL "
                              "image (for backbone features use predict_features)"),
        ([good, 3], "predict: image 1 is a int; give a path, bytes or a PIL image"),
    ]
    for images, message in cases:
        with pytest.raises(GeovarioError) as error:
            image_predictor.predict(images)
        assert str(error.value) == message
    for top_k, message in ((0, "top_k and batch_size must be >= 1, got 0 and 16"),
                           (301, "top-k 301 exceeds the 300 locations of gallery")):
        with pytest.raises(GeovarioError, match=message):
            image_predictor.predict(good, top_k=top_k)


@pytest.fixture
def album(tmp_path):
    """Photos in a folder, a subfolder, and things that are not photos."""
    folder = tmp_path / "album"
    (folder / "trip").mkdir(parents=True)
    (folder / "b.png").write_bytes(photo_bytes("PNG", seed=1))
    (folder / "A.JPG").write_bytes(photo_bytes("JPEG", seed=2))
    (folder / "notes.txt").write_text("not a photo")
    (folder / ".hidden.jpg").write_bytes(photo_bytes("JPEG", seed=3))
    (folder / "trip" / "c.jpeg").write_bytes(photo_bytes("JPEG", seed=4))
    return folder


def test_predict_a_folder(image_run, album, capsys):
    run, gallery = image_run
    common = ["--gallery", str(gallery), "--device", "cpu", "--json", "--top-k", "2"]
    assert main(["predict", str(run), str(album), *common]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)["results"]
    assert [r["image"] for r in results] == [str(album / "A.JPG"), str(album / "b.png")]
    assert all(len(r["predictions"]) == 2 for r in results)
    assert f"{album}: 2 images; 1 subfolder not searched (--recursive)" in captured.err

    assert main(["predict", str(run), str(album), "--recursive", *common]) == 0
    captured = capsys.readouterr()
    assert [r["image"] for r in json.loads(captured.out)["results"]] == [
        str(album / name) for name in ("A.JPG", "b.png", "trip/c.jpeg")]
    assert f"{album}: 3 images\n" in captured.err

    (album / "empty").mkdir()
    assert main(["predict", str(run), str(album / "empty"), *common]) == 2
    assert f"{album / 'empty'}: no images in it" in capsys.readouterr().err


def test_the_first_gallery_encoding_says_so(image_predictor, tmp_path, capsys):
    model, gallery = image_predictor.model, image_predictor.gallery
    device = image_predictor.device
    cached_gallery_embeddings(model, gallery, tmp_path / "cache", device, progress=True)
    err = capsys.readouterr().err
    assert (f"gallery: encoding the 300-place gallery {gallery.name} once, cached in "
            f"{tmp_path / 'cache'}\n") in err
    assert "300/300" in err  # the progress bar, counting places
    cached_gallery_embeddings(model, gallery, tmp_path / "cache", device, progress=True)
    assert capsys.readouterr().err == ""  # read from the cache: nothing to say


def test_a_folder_that_is_not_a_run_names_what_works(tmp_path, capsys):
    with pytest.raises(GeovarioError, match=r"GeoCLIP: no config.json; not a geovario run "
                                            r"directory \(give one written by geovario train, "
                                            r"hf:OWNER/NAME, or geoclip for the published "
                                            r"model\)$"):
        from geovario import Predictor

        Predictor("GeoCLIP")
    (tmp_path / "photo.jpg").write_bytes(photo_bytes())
    assert main(["predict", str(tmp_path), str(tmp_path / "photo.jpg")]) == 2
    assert f"{tmp_path}: no config.json; not a geovario run directory" in capsys.readouterr().err
