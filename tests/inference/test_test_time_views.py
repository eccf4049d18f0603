"""Test-time views (TenCrop): the views' logits are averaged, not their features."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from tests.helpers.serve_testdata import photo
from torchvision.transforms import TenCrop

from geovario.cli import main
from geovario.commands.predict import store_results
from geovario.errors import GeovarioError
from geovario.inference.evaluate import evaluate
from geovario.inference.gallery import top_k
from geovario.inference.predictor import Predictor
from geovario.store import StoreWriter, open_store

VIEWS = 10


def test_retrieval_of_the_mean_unit_embedding_averages_the_logits_by_hand():
    # Two views e1 = (1, 0), e2 = (0, 1); gallery g1 = (1, 0), g2 = (0.6, 0.8); scale 2.
    # Logits: view 1 (2, 1.2), view 2 (0, 1.6); mean (1, 1.4); softmax p(g2) = 1/(1+e^-0.4).
    views = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    gallery = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    best = top_k(views.mean(dim=1), gallery, 2.0, k=2)
    assert best.indices.tolist() == [[1, 0]]
    p2 = 1 / (1 + math.exp(-0.4))
    np.testing.assert_allclose(best.probs, [[p2, 1 - p2]], rtol=1e-6)
    # Averaging the features and re-normalising them would give (0.707, 0.707): logits
    # (1.414, 1.980) and p(g2) = 0.638, another answer.
    assert abs(p2 - 1 / (1 + math.exp(-2 * (1.4 - 1) / math.sqrt(2)))) > 0.03


@pytest.fixture(scope="module")
def predictor(trained):
    return Predictor(trained / "run", gallery=f"store:{trained / 'train'}", device="cpu")


@pytest.fixture(scope="module")
def views(trained):
    """(N, 10, 32) features: each image's views are noisy copies of its own features."""
    store = open_store(trained / "test")
    base = store.load_features(np.float32)[:40]
    noise = np.random.default_rng(0).normal(scale=0.3, size=(40, VIEWS, base.shape[1]))
    return (base[:, None, :] + noise).astype(np.float16).astype(np.float32), store


def test_predictor_averages_the_views_logits(predictor, views):
    features, _ = views
    out = predictor.predict_features(features, k=3)
    # The oracle: each view's logits against the whole gallery, averaged, then the softmax.
    model, gallery = predictor.model, predictor.gallery_embeddings
    with torch.no_grad():
        logits = torch.stack([predictor.scale * model.encode_images(torch.from_numpy(
            features[:, v])) @ gallery.T for v in range(VIEWS)]).mean(dim=0)
    probs = logits.softmax(dim=1)
    want_p, want_i = probs.topk(3, dim=1)
    np.testing.assert_array_equal(out.topk_coords, predictor.gallery.coords[want_i.numpy()])
    np.testing.assert_allclose(out.topk_probs, want_p.numpy(), rtol=1e-4, atol=1e-7)
    # Not the prediction of the mean feature (the head is nonlinear).
    mean_feature = predictor.predict_features(features.mean(axis=1), k=3)
    assert not np.allclose(mean_feature.topk_probs, out.topk_probs, atol=1e-3)


@pytest.fixture(scope="module")
def views_store(views, tmp_path_factory):
    """The views written as a TenCrop store: one row per image, ten embeddings side by side."""
    features, plain = views
    path = tmp_path_factory.mktemp("views") / "store"
    with StoreWriter(path, backbone=plain.backbone, dim=VIEWS * plain.dim,
                     preprocessing={"test_time_augmentation": "tencrop", "views": VIEWS},
                     label_columns=()) as writer:
        writer.append(plain.ids[:40], plain.coords[:40], features.reshape(40, -1))
    return open_store(path)


def test_a_store_of_views_is_evaluated_with_the_views_logits_averaged(predictor, views,
                                                                       views_store, tmp_path):
    features, plain = views
    assert views_store.views == VIEWS and plain.views == 1
    evaluate(predictor, views_store.path, predictions_csv=tmp_path / "p.csv")
    got = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, usecols=(1, 2))
    np.testing.assert_array_equal(got, predictor.predict_features(features).coords)
    listed = store_results(predictor, views_store, np.arange(3), k=2)
    want = predictor.predict_features(features[:3], k=2)
    np.testing.assert_allclose([[p["probability"] for p in r["predictions"]] for r in listed],
                               want.topk_probs, rtol=1e-6)


def test_training_on_a_store_of_views_is_a_one_line_error(views_store, tmp_path, capsys):
    for command in (["train", str(tmp_path / "run"), "--store", str(views_store.path),
                     "--quiet"],
                    ["variogram", "--store", str(views_store.path), "--out",
                     str(tmp_path / "v.json")]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert err.endswith(f"{views_store.path} holds 10 test-time views per image "
                            "(extract --tta tencrop), for evaluate and predict only; extract "
                            "this store without --tta"), err
        assert "\n" not in err
    assert not (tmp_path / "run").exists()


def test_photos_with_tencrop_average_the_logits_of_torchvisions_ten_crops(image_run,
                                                                          image_backbone,
                                                                          tmp_path, capsys):
    run, gallery = image_run
    predictor = Predictor(run, gallery=str(gallery), device="cpu", tta="tencrop")
    image = photo(seed=3, size=(300, 200))
    guesses = predictor.predict(image, top_k=3)
    # The oracle: the plain backbone's resize, torchvision's ten crops, each embedded alone.
    resized = dataclasses.replace(image_backbone.transform, crop=None).pixels(image)
    crops = torch.stack(TenCrop(224)(resized))
    features = image_backbone.embed(image_backbone.transform.normalize(crops)).numpy()
    want = predictor.predict_features(features[None], k=3)
    np.testing.assert_allclose([g.probability for g in guesses], want.topk_probs[0],
                               rtol=1e-4)
    assert [(g.latitude, g.longitude) for g in guesses] == [
        tuple(c) for c in want.topk_coords[0].tolist()]
    assert main(["predict", str(run), "--gallery", str(gallery), "--tta", "tencrop",
                 "--store", str(tmp_path), "--device", "cpu"]) == 2
    assert "predict: error: --tta applies to image files" in capsys.readouterr().err
    with pytest.raises(GeovarioError, match=r"unknown test-time augmentation 'x'"):
        Predictor(run, gallery=str(gallery), device="cpu", tta="x")
