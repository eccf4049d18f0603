import numpy as np
import pytest
import torch
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image

from geovario.backbones import load_backbone
from geovario.backbones.efficientnet import weights_path

LOW = -127 / 128  # pixel 0 under mean 127, std 128 (TF EfficientNet-Lite)


@pytest.fixture(scope="module")
def backbone():
    return load_backbone("efficientnet-lite0")


@pytest.fixture(scope="module")
def batch(backbone):
    rng = np.random.default_rng(0)
    gradient = np.linspace(0, 255, 300 * 200 * 3).reshape(200, 300, 3).astype(np.uint8)
    images = [Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)),
              Image.fromarray(gradient),
              Image.fromarray(rng.integers(0, 256, (500, 230), dtype=np.uint8), mode="L")]
    return torch.stack([backbone.preprocess(image) for image in images])


def test_identity(backbone):
    assert (backbone.name, backbone.dim) == ("efficientnet-lite0", 1280)
    assert backbone.dtype == torch.float32 and backbone.device == torch.device("cpu")
    assert backbone.preprocessing["mean"] == [127 / 255] * 3
    assert backbone.preprocessing["std"] == [128 / 255] * 3
    assert backbone.preprocessing["center_crop"] == [224, 224]


def test_preprocess_hand_worked_values(backbone):
    for value, expected in ((127, 0.0), (255, 1.0), (0, LOW)):
        pixels = backbone.preprocess(Image.new("RGB", (300, 200), (value,) * 3))
        assert pixels.shape == (3, 224, 224) and pixels.dtype == torch.float32
        torch.testing.assert_close(pixels, torch.full_like(pixels, expected), atol=1e-6, rtol=0)
    # Fully transparent pixels become white, grey images get three equal channels.
    assert torch.all(backbone.preprocess(Image.new("RGBA", (50, 60), (0, 0, 0, 0))) == 1.0)
    grey = backbone.preprocess(Image.new("L", (50, 60), 127))
    assert grey.shape == (3, 224, 224) and torch.all(grey == 0.0)


def test_resize_then_center_crop_geometry(backbone):
    # 512 x 256, black left half: resized to 512 x 256 (no-op), the 224 crop starts at
    # column (512 - 224) / 2 = 144, so the black-white edge at 256 falls at column 112.
    array = np.full((256, 512, 3), 255, np.uint8)
    array[:, :256] = 0
    pixels = backbone.preprocess(Image.fromarray(array))
    assert torch.all(pixels[:, :, :110] == LOW) and torch.all(pixels[:, :, 114:] == 1.0)


def test_features_and_logits_equal_the_reference_model(backbone, batch):
    reference = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights_path())
    reference.eval()
    pooled = {}
    reference._fc.register_forward_hook(lambda module, args, out: pooled.update(x=args[0]))
    with torch.no_grad():
        logits = reference(batch)

    features = backbone.embed(batch)
    assert features.shape == (3, 1280) and features.dtype == torch.float32
    torch.testing.assert_close(features, pooled["x"], atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        torch.testing.assert_close(backbone.model._fc(features), logits, atol=1e-5, rtol=1e-5)
    assert torch.equal(backbone.embed(batch), features)  # deterministic


def test_pretrained_weights_are_loaded(backbone, batch):
    state = torch.load(weights_path(), map_location="cpu", weights_only=True)
    ours = backbone.model.state_dict()
    assert ours.keys() == state.keys()
    assert all(torch.equal(ours[key], state[key]) for key in state)

    untrained = EfficientNet.from_name("efficientnet-lite0").eval()
    with torch.no_grad():
        random_features = untrained._avg_pooling(untrained.extract_features(batch)).flatten(1)
    features = backbone.embed(batch)
    assert (features - random_features).abs().max() > 0.1
    # The ReLU6 head saturates at 6, and trained ImageNet features are sparse-ish yet not dead.
    assert features.min() >= 0 and features.max() <= 6 and (features > 0).float().mean() > 0.1
