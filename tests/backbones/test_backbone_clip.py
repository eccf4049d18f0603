import huggingface_hub.constants
import numpy as np
import pytest
import torch
import transformers
from PIL import Image
from transformers import (
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    SiglipConfig,
    SiglipImageProcessor,
    SiglipModel,
    ViTConfig,
    ViTImageProcessor,
    ViTModel,
)

from geovario.backbones import clip, load_backbone
from geovario.backbones.clip import DEFAULT_MODEL
from geovario.errors import GeovarioError

TOWER = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2)
TEXT = dict(TOWER, vocab_size=99, max_position_embeddings=16)


def save(path, model, processor):
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    torch.manual_seed(0)
    config = CLIPConfig(text_config=TEXT, vision_config=dict(TOWER, image_size=32, patch_size=8),
                        projection_dim=16)
    processor = CLIPImageProcessor(size={"shortest_edge": 32},
                                   crop_size={"height": 32, "width": 32})
    return save(tmp_path_factory.mktemp("clip"), CLIPModel(config), processor)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def images():
    rng = np.random.default_rng(0)
    rgba = Image.fromarray(rng.integers(0, 256, (64, 33, 4), np.uint8), mode="RGBA")
    return [Image.fromarray(rng.integers(0, 256, (37, 45, 3), np.uint8)),
            Image.fromarray(rng.integers(0, 256, (32, 39, 3), np.uint8)), rgba,
            Image.fromarray(rng.integers(0, 256, (40, 50), np.uint8), mode="L")]


def reference_features(model_class, path):
    """What the model's own processor and get_image_features give for the whole batch."""
    pixels = transformers.AutoImageProcessor.from_pretrained(path)(
        images=images(), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model_class.from_pretrained(path).eval().get_image_features(pixel_values=pixels)
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def test_tiny_clip_equals_processor_and_get_image_features(tiny_clip):
    backbone = load_backbone("clip:" + str(tiny_clip))
    assert backbone.name == f"clip:{tiny_clip}" and backbone.dim == 16
    features = backbone.embed(torch.stack([backbone.preprocess(image) for image in images()]))
    assert features.shape == (4, 16) and features.dtype == torch.float32
    torch.testing.assert_close(features, reference_features(CLIPModel, tiny_clip),
                               atol=1e-5, rtol=1e-5)
    assert not torch.allclose(features.norm(dim=1), torch.ones(4))  # not L2-normalised
    assert backbone.preprocessing | {"revision": None} == {
        "resize_shortest": 32, "interpolation": "bicubic", "antialias": True,
        "center_crop": [32, 32], "rescale": 1 / 255, "mean": [0.48145466, 0.4578275, 0.40821073],
        "std": [0.26862954, 0.26130258, 0.27577711], "rgb": "transparency composited onto white",
        "model": str(tiny_clip), "model_type": "clip", "revision": None}


def test_relative_path_becomes_absolute(tiny_clip, monkeypatch):
    monkeypatch.chdir(tiny_clip.parent)
    assert load_backbone(f"clip:./{tiny_clip.name}").name == f"clip:{tiny_clip}"


def test_tiny_siglip_loads_the_same_way(tmp_path):
    torch.manual_seed(1)
    config = SiglipConfig(text_config=TEXT, vision_config=dict(TOWER, image_size=32, patch_size=8))
    path = save(tmp_path / "siglip", SiglipModel(config),
                SiglipImageProcessor(size={"height": 32, "width": 32}))
    backbone = load_backbone(f"clip:{path}")
    assert backbone.dim == 32 and backbone.preprocessing["model_type"] == "siglip"
    features = backbone.embed(torch.stack([backbone.preprocess(image) for image in images()]))
    torch.testing.assert_close(features, reference_features(SiglipModel, path),
                               atol=1e-5, rtol=1e-5)


def test_hub_id_without_network_is_a_one_line_error(offline):
    with pytest.raises(GeovarioError) as info:
        load_backbone("clip:geovario-tests/no-such-model")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("backbone: cannot load CLIP model 'geovario-tests/no-such-model' (")
    assert message.endswith("pass a local directory written by save_pretrained, "
                            "or allow network access to the Hugging Face Hub")


@pytest.fixture
def own_hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache, online mode, no proxy."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_an_unreachable_hub_is_said_at_once(own_hub_cache, monkeypatch):
    """Not two minutes of huggingface_hub's retries: one line as soon as no connection opens."""
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(GeovarioError) as info:
        load_backbone("clip:geovario-tests/no-such-model")
    assert str(info.value).startswith(
        "backbone: cannot load CLIP model 'geovario-tests/no-such-model' (not in the Hugging "
        "Face cache, and 127.0.0.1 cannot be reached); pass a local directory")
    assert (info.value.source, info.value.reason) == (
        "geovario-tests/no-such-model", "not in the Hugging Face cache, and 127.0.0.1 cannot "
        "be reached")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")  # the proxy may know a way
    assert clip._reachable("http://127.0.0.1:9")


def test_bare_clip_means_geoclips_backbone(monkeypatch):
    monkeypatch.setattr(clip, "_reachable", lambda endpoint: True)
    asked = []

    def from_pretrained(source, *args, **kwargs):
        asked.append(source)
        raise OSError("no network here")

    monkeypatch.setattr(transformers.AutoImageProcessor, "from_pretrained", from_pretrained)
    for name in ("clip", "clip:"):
        with pytest.raises(GeovarioError, match=rf"cannot load CLIP model '{DEFAULT_MODEL}' "
                                                r"\(no network here\)"):
            load_backbone(name)
    assert asked == [DEFAULT_MODEL] * 2 == ["openai/clip-vit-large-patch14"] * 2


def test_missing_directory(tmp_path):
    with pytest.raises(GeovarioError, match=f"backbone: CLIP model directory "
                                            f"'{tmp_path / 'missing'}' does not exist"):
        load_backbone(f"clip:{tmp_path / 'missing'}")


def test_directory_without_a_model(tmp_path, offline):
    with pytest.raises(GeovarioError, match=f"backbone: cannot load CLIP model '{tmp_path}'"):
        load_backbone(f"clip:{tmp_path}")


def test_model_without_image_embedding(tmp_path):
    config = ViTConfig(**TOWER, image_size=32, patch_size=8)
    processor = ViTImageProcessor(size={"height": 32, "width": 32})
    path = save(tmp_path / "vit", ViTModel(config), processor)
    with pytest.raises(GeovarioError, match=r"backbone: CLIP model .* \(ViTModel\) has no image "
                                            r"embedding \(get_image_features\)"):
        load_backbone(f"clip:{path}")
