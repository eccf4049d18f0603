"""The published GeoCLIP weights, through geovario, against the `geoclip` package itself."""

import warnings

import numpy as np
import pytest
import torch

from geovario.models import GeoCLIP, ModelConfig, build_model, published_gallery

warnings.filterwarnings("ignore", category=FutureWarning)


@pytest.fixture(scope="module")
def reference_location_encoder():
    from geoclip.model.location_encoder import LocationEncoder

    return LocationEncoder().eval()


@pytest.fixture(scope="module")
def published():
    return build_model(ModelConfig(init="geoclip")).eval()


def random_coords(n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.rand(n, generator=g) * 180 - 90,
                        torch.rand(n, generator=g) * 360 - 180], 1)


def test_location_encoder_matches_geoclip(reference_location_encoder, published):
    coords = random_coords(2000, 0)
    with torch.no_grad():
        ours = published.location_encoder(coords)
        theirs = reference_location_encoder(coords)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_image_head_and_logit_scale_match_geoclip(published):
    # GeoCLIP's ImageEncoder.mlp, loaded from the package's own file.
    head = torch.nn.Sequential(torch.nn.Linear(768, 768), torch.nn.ReLU(),
                               torch.nn.Linear(768, 512))
    from geoclip.model.misc import file_dir

    head.load_state_dict(torch.load(f"{file_dir}/weights/image_encoder_mlp_weights.pth",
                                    weights_only=True))
    features = torch.randn(64, 768, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(published.image_head(features), head(features),
                                   atol=1e-5, rtol=0)
    scale = torch.load(f"{file_dir}/weights/logit_scale_weights.pth", weights_only=True)
    assert published.logit_scale.item() == pytest.approx(float(scale))


def test_gallery_is_the_published_100k():
    from geoclip.model.misc import file_dir, load_gps_data

    gallery = published_gallery()
    assert gallery.shape == (100_000, 2)
    np.testing.assert_allclose(gallery, load_gps_data(f"{file_dir}/gps_gallery/"
                                                      "coordinates_100K.csv").numpy(),
                               atol=1e-5)


def test_extra_scale_warm_starts_the_others(published):
    model = build_model(ModelConfig(sigmas=(1.0, 16.0, 256.0, 4096.0), init="geoclip"))
    for i in range(3):
        torch.testing.assert_close(model.location_encoder.branches[i].state_dict(),
                                   published.location_encoder.branches[i].state_dict())
    fresh = GeoCLIP(ModelConfig(sigmas=(1.0, 16.0, 256.0, 4096.0)))
    torch.testing.assert_close(model.location_encoder.branches[3].state_dict(),
                               fresh.location_encoder.branches[3].state_dict())
    assert model.location_encoder.branches[3].frequencies.std() > 1000  # σ = 4096


def test_other_feature_dims_train_the_head_from_scratch(published):
    model = build_model(ModelConfig(feature_dim=1280, init="geoclip"))
    assert model.image_head.mlp[0].weight.shape == (1280, 1280)
    fresh = GeoCLIP(ModelConfig(feature_dim=1280))
    torch.testing.assert_close(model.image_head.state_dict(), fresh.image_head.state_dict())
    # The location encoder is the published one, and so is its trained temperature.
    assert model.logit_scale.item() == pytest.approx(published.logit_scale.item())
    scratch = build_model(ModelConfig(init="scratch"))
    assert scratch.logit_scale.item() == pytest.approx(np.log(1 / 0.07))


def test_location_init_loads_only_the_location_encoder(published):
    # The paper's set-up: published location encoder, image head random, logit scale
    # at CLIP's log(1/0.07), even for 768-d features where the published head would fit.
    model = build_model(ModelConfig())
    assert ModelConfig().init == "location"
    torch.testing.assert_close(model.location_encoder.state_dict(),
                               published.location_encoder.state_dict())
    fresh = GeoCLIP(ModelConfig())
    torch.testing.assert_close(model.image_head.state_dict(), fresh.image_head.state_dict())
    assert not torch.equal(model.image_head.mlp[0].weight, published.image_head.mlp[0].weight)
    assert model.logit_scale.item() == pytest.approx(np.log(1 / 0.07))
