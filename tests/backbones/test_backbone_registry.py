import pickle
import re

import pytest
import torch

from geovario.backbones import Backbone, ImageTransform, base, list_backbones, load_backbone
from geovario.backbones import register_backbone as register
from geovario.errors import GeovarioError

TRANSFORM = ImageTransform(resize=None, crop=None, mean=(0.5,) * 3, std=(0.25,) * 3)


class Doubler(Backbone):
    """Embeds an image as twice the per-channel mean of its pixels."""

    def forward(self, pixels):
        return 2 * pixels.mean(dim=(2, 3))


@pytest.fixture
def toy(monkeypatch):
    """Register 'toy:<spec>' and 'plain' on a copy of the registry; return the calls seen."""
    monkeypatch.setattr(base.BACKBONES, "_entries", dict(base.BACKBONES._entries))
    calls = []

    def factory(spec, device, dtype):
        calls.append((spec, device, dtype))
        return Doubler(name=f"toy:{spec}", dim=3, model=torch.nn.Identity(), transform=TRANSFORM,
                       weights={"toy": spec}, device=device, dtype=dtype)

    register("toy:", spec="<word>")(factory)
    register("plain")(factory)
    return calls


def test_unknown_backbone_names_the_choices():
    with pytest.raises(GeovarioError) as info:
        load_backbone("nope")
    assert str(info.value) == ("unknown backbone 'nope' "
                               "(choose from clip:<hub id or path>, efficientnet-lite0)")
    assert list_backbones() == ["clip:<hub id or path>", "efficientnet-lite0"]


def test_prefix_exact_name_and_bare_prefix_dispatch(toy):
    assert list_backbones() == [
        "clip:<hub id or path>", "efficientnet-lite0", "plain", "toy:<word>"]
    load_backbone("toy:a:b")
    load_backbone("toy")
    load_backbone("toy:")
    load_backbone("plain")
    assert [spec for spec, _, _ in toy] == ["a:b", None, None, None]
    with pytest.raises(GeovarioError, match="unknown backbone 'plain:x'"):
        load_backbone("plain:x")
    with pytest.raises(GeovarioError, match="unknown backbone 'toys'"):
        load_backbone("toys")


def test_register_twice_is_refused(toy):
    with pytest.raises(GeovarioError, match="backbone: 'toy:' is already registered"):
        register("toy:")(lambda spec, device, dtype: None)


def test_cpu_defaults_to_float32_and_accepts_dtype_names(toy):
    load_backbone("plain")
    load_backbone("plain", device=torch.device("cpu"), dtype="float32")
    load_backbone("plain", dtype=torch.float32)
    assert [(str(device), dtype) for _, device, dtype in toy] == [("cpu", torch.float32)] * 3


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, "float16"])
def test_half_precision_on_cpu_is_refused(toy, dtype):
    name = str(dtype).removeprefix("torch.")
    with pytest.raises(GeovarioError, match=rf"backbone: dtype {name} needs a CUDA device, "
                                            r"got 'cpu'; use float32 \(or leave dtype unset\)"):
        load_backbone("plain", dtype=dtype)
    assert toy == []


@pytest.mark.parametrize("dtype", [torch.float64, torch.int8, "half-ish"])
def test_unsupported_dtype(toy, dtype):
    with pytest.raises(GeovarioError, match=r"backbone: unsupported dtype .* \(choose float32, "
                                            r"float16 or bfloat16\)"):
        load_backbone("plain", dtype=dtype)


def test_bad_devices(toy):
    with pytest.raises(GeovarioError, match="backbone: unknown device 'gpu0'"):
        load_backbone("plain", device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(GeovarioError, match="backbone: device 'cuda:1' requested but CUDA is "
                                                "not available"):
            load_backbone("plain", device="cuda:1")


def test_embed_contract(toy):
    backbone = load_backbone("toy:x")
    assert backbone.preprocessing["toy"] == "x" and backbone.preprocessing["std"] == [0.25] * 3
    batch = torch.full((2, 3, 5, 4), 1.5, dtype=torch.float64)
    out = backbone.embed(batch)
    assert out.dtype == torch.float32 and out.device.type == "cpu" and out.shape == (2, 3)
    assert torch.equal(out, torch.full((2, 3), 3.0))
    assert not out.requires_grad and not backbone.model.training
    assert not out.is_inference()
    out /= 3  # an ordinary tensor: in-place updates are allowed
    for bad in (torch.zeros(3, 5, 5), torch.zeros(2, 1, 5, 5)):
        message = f"toy:x: embed expects a (B, 3, H, W) batch, got shape {tuple(bad.shape)}"
        with pytest.raises(GeovarioError, match=re.escape(message)):
            backbone.embed(bad)


def test_transform_pickles_without_the_model(toy):
    backbone = load_backbone("toy:x")
    clone = pickle.loads(pickle.dumps(backbone.transform))
    assert clone == backbone.transform
