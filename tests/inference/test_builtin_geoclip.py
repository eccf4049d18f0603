"""The built-in ``geoclip`` run against the ``geoclip`` package's own modules and weights.

CLIP ViT-L/14 itself (1.7 GB) is not downloaded here: a small random CLIP with the same
768-d projection, written by ``save_pretrained``, stands in for it, once as a folder
(``--backbone clip:DIR``) and once in a Hugging Face cache under the real model's id.
"""

import re
from pathlib import Path

import huggingface_hub.constants
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from tests.helpers.serve_testdata import photo
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

from geovario.cli import main
from geovario.errors import GeovarioError
from geovario.inference.predictor import Predictor
from geovario.models.pretrained import published_gallery

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit in geoclip
CLIP_ID = "openai/clip-vit-large-patch14"
TOWER = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2)
SUBSET = 2000  # places of the published gallery used by the fast tests


@pytest.fixture(scope="module")
def stand_in_clip(tmp_path_factory) -> Path:
    """A random CLIP with ViT-L/14's 768-d projection and its preprocessing (224 px)."""
    torch.manual_seed(0)
    config = CLIPConfig(text_config=dict(TOWER, vocab_size=99, max_position_embeddings=16),
                        vision_config=dict(TOWER, image_size=224, patch_size=32),
                        projection_dim=768)
    path = tmp_path_factory.mktemp("clip")
    CLIPModel(config).save_pretrained(path)
    CLIPImageProcessor().save_pretrained(path)  # the defaults are ViT-L/14's processor's
    return path


@pytest.fixture(scope="module")
def package(stand_in_clip):
    """The geoclip package's own GeoCLIP: its image head, location encoder, logit scale and
    gallery, on the stand-in CLIP."""
    from geoclip import GeoCLIP

    return GeoCLIP(from_pretrained=True, clip_path=str(stand_in_clip)).eval()


@pytest.fixture(scope="module")
def subset_gallery(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gallery") / "subset.csv"
    coords = published_gallery()[:SUBSET]
    pd.DataFrame({"LAT": coords[:, 0], "LON": coords[:, 1]}).to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def own_caches(tmp_path, monkeypatch):
    """Gallery cache and Hugging Face cache in the test's folder; no Hub."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))


@torch.no_grad()
def package_top_k(package, features: torch.Tensor, gallery: torch.Tensor, k: int):
    """GeoCLIP.forward and predict's softmax and top-k, on the package's own modules."""
    images = F.normalize(package.image_encoder.mlp(features), dim=1)
    places = F.normalize(package.location_encoder(gallery), dim=1)
    probs = (package.logit_scale.exp() * images @ places.T).softmax(dim=-1)
    top = torch.topk(probs, k, dim=1)
    return gallery[top.indices].numpy(), top.values.numpy()


def test_same_features_same_top_k_as_the_package(package, subset_gallery):
    predictor = Predictor("geoclip", device="cpu", gallery=str(subset_gallery), cache=False)
    assert predictor.backbone == f"clip:{CLIP_ID}" and predictor.model_config.feature_dim == 768
    features = torch.randn(6, 768, generator=torch.Generator().manual_seed(3)) * 2
    ours = predictor.predict_features(features.numpy(), k=5)
    coords, probs = package_top_k(package, features, package.gps_gallery[:SUBSET], 5)
    np.testing.assert_allclose(ours.topk_coords, coords, atol=1e-5)
    np.testing.assert_allclose(ours.topk_probs, probs, atol=1e-5, rtol=0)
    assert probs[:, 0].min() > 1e-3  # sharp enough that a wrong head or scale would show


def test_a_photo_locates_as_the_package_predicts_it(package, stand_in_clip, subset_gallery,
                                                    tmp_path):
    path = tmp_path / "photo.jpg"
    photo(seed=31).save(path)
    predictor = Predictor("geoclip", device="cpu", gallery=str(subset_gallery),
                          backbone=f"clip:{stand_in_clip}")
    guesses = predictor.predict(path, top_k=5)
    full_gallery = package.gps_gallery
    try:
        package.gps_gallery = full_gallery[:SUBSET]
        coords, probs = package.predict(str(path), top_k=5)  # the package's whole pipeline
    finally:
        package.gps_gallery = full_gallery
    np.testing.assert_allclose([[g.latitude, g.longitude] for g in guesses], coords, atol=1e-5)
    np.testing.assert_allclose([g.probability for g in guesses], probs, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_the_full_published_gallery_gives_the_packages_top_k(package, tmp_path):
    predictor = Predictor("geoclip", device="cpu")
    assert len(predictor.gallery) == 100_000
    features = torch.randn(4, 768, generator=torch.Generator().manual_seed(4)) * 2
    ours = predictor.predict_features(features.numpy(), k=10)
    coords, probs = package_top_k(package, features, package.gps_gallery, 10)
    np.testing.assert_allclose(ours.topk_coords, coords, atol=1e-5)
    np.testing.assert_allclose(ours.topk_probs, probs, atol=1e-5, rtol=0)
    assert list((tmp_path / "xdg" / "geovario" / "gallery-cache").glob("gallery-*"))


def test_without_clip_one_line_says_what_is_missing_and_how_to_point_at_a_copy(tmp_path,
                                                                               capsys):
    predictor = Predictor("geoclip", device="cpu")
    with pytest.raises(GeovarioError) as error:
        predictor.load_backbone()
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"geoclip: cannot load its backbone {CLIP_ID} (not in the "
                               "Hugging Face cache and HF_HUB_OFFLINE is set); ")
    assert f"`hf download {CLIP_ID} config.json preprocessor_config.json model.safetensors " \
           "--local-dir DIR`, then pass --backbone clip:DIR" in message
    photo(seed=1).save(tmp_path / "photo.jpg")
    for command in (["predict", "geoclip", str(tmp_path / "photo.jpg")],
                    ["serve", "geoclip", "--port", "0"]):
        assert main([*command, "--device", "cpu"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
        assert "encoding" not in err  # it fails before the gallery's half minute


def fake_hub_cache(cache: Path, repo_id: str, files: Path) -> None:
    """Lay ``files`` out as huggingface_hub's cache holds a downloaded model."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for file in files.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())


def test_clip_from_the_hugging_face_cache_and_the_readme_snippet(stand_in_clip, package,
                                                                 tmp_path, monkeypatch, capsys):
    """The README's "From Python" snippet, run as written: CLIP comes from the Hugging Face
    cache (the stand-in under the real id), without the Hub, even when it is not offline."""
    fake_hub_cache(tmp_path / "hf", CLIP_ID, stand_in_clip)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    import transformers.utils.hub as transformers_hub

    downloads = []
    real_download = transformers_hub.hf_hub_download

    def cache_only(*args, **kwargs):
        downloads.append(kwargs.get("local_files_only"))
        return real_download(*args, **kwargs)

    monkeypatch.setattr(transformers_hub, "hf_hub_download", cache_only)
    monkeypatch.setattr("geovario.models.pretrained.published_gallery",
                        lambda: package.gps_gallery[:SUBSET].double().numpy())  # fast: a part
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = re.search(r"## From Python.*?```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    for name, seed in (("photo.jpg", 41), ("holiday.jpg", 42), ("street.png", 43)):
        photo(seed).save(name)
    exec(compile(snippet, "README.md", "exec"), {})
    captured = capsys.readouterr()
    assert downloads and all(downloads)  # every file read with local_files_only=True
    assert "downloading" not in captured.err
    full_gallery = package.gps_gallery
    try:
        package.gps_gallery = full_gallery[:SUBSET]
        coords, probs = package.predict("photo.jpg", top_k=5)
    finally:
        package.gps_gallery = full_gallery
    printed = [line.split()[:3] for line in captured.out.splitlines()[:5]]
    np.testing.assert_allclose(np.array(printed, dtype=float),
                               np.column_stack([coords.numpy(), probs.numpy()]), atol=1e-3)
