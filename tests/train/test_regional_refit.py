"""Training with a region-wise variogram: refits update every region, and resumes are exact."""

import json

import numpy as np
import pytest
import torch
from tests.helpers.resume import assert_resume_after_an_epoch_is_exact
from tests.helpers.synthetic_testdata import small_model

from geovario.checkpoint import read_metadata
from geovario.losses import ContrastiveInputs, build_loss
from geovario.models import build_model
from geovario.store import open_store
from geovario.train.refit import VariogramRefitter, blend, blend_regional
from geovario.variogram import empirical_variogram, fit_variogram
from geovario.variogram.regional import RegionalVariogram, load_variogram, variogram_from_dict
from geovario.variogram.regional_fit import fit_regional_variogram


@pytest.fixture(scope="module")
def regional_file(store, tmp_path_factory):
    """Three regions of the synthetic store's places, fitted on its features."""
    features = open_store(store)
    coords, values = features.coords, features.load_features(np.float32)
    global_fit = fit_variogram(empirical_variogram(coords, values), model="exponential",
                               warn=False)
    regional = fit_regional_variogram(coords, values, global_fit, regions=3, min_points=100,
                                      model="exponential")
    path = tmp_path_factory.mktemp("variograms") / "regional.json"
    regional.save(path)
    return path


@pytest.mark.slow  # about 20 s on two idle cores (a minute on busy ones)
def test_training_with_regional_refits_resumes_exactly(store, regional_file, tmp_path):
    sv = dict(loss="semivariogram", variogram=str(regional_file), refit_every=16,
              refit_sample=256, refit_smoothing=1.0)
    assert_resume_after_an_epoch_is_exact(store, tmp_path, **sv)
    start = load_variogram(regional_file)
    run = tmp_path / "straight"
    assert isinstance(load_variogram(run / "variogram.json"), RegionalVariogram)
    saved = [read_metadata(r / "checkpoint.safetensors")["position"]["loss_state"]
             for r in (run, tmp_path / "split")]
    assert saved[0] == saved[1]  # the checkpoint holds the last refit, every region of it
    refitted = variogram_from_dict(saved[0]["variogram"])
    assert isinstance(refitted, RegionalVariogram) and len(refitted.regions) == 3
    np.testing.assert_array_equal(refitted.centroids_deg, start.centroids_deg)  # kept
    for old, new in zip(start.regions, refitted.regions, strict=True):
        assert new.fitted.range_km != old.fitted.range_km  # each region was refitted
        assert 0 < new.pairs.sum() < old.pairs.sum()  # on the 256-image sample
    settings = next(json.loads(line) for line in (run / "metrics.jsonl").open()
                    if '"kind": "loss"' in line)
    assert settings["regions"] == 3
    assert 0 < settings["region_range_min_km"] <= settings["region_range_max_km"]


def test_a_refit_updates_every_region_and_its_state_restores_the_same_loss(store,
                                                                          regional_file):
    loss = build_loss("semivariogram", variogram=regional_file)
    start = loss.variogram
    refitter = VariogramRefitter(open_store(store), np.arange(1024), every=4, smoothing=0.5,
                                 sample=256, seed=3)
    torch.manual_seed(0)
    refitted = refitter.refit(build_model(small_model()), loss, 4, torch.device("cpu"))
    assert refitted is loss.variogram and isinstance(refitted, RegionalVariogram)
    np.testing.assert_array_equal(refitted.centroids_deg, start.centroids_deg)
    for old, new in zip(start.regions, refitted.regions, strict=True):
        assert new.fitted.range_km != old.fitted.range_km
        assert 0 < new.pairs.sum() < old.pairs.sum()  # the 256-image sample's pairs
    # What a checkpoint keeps gives the very same loss after a resume.
    resumed = build_loss("semivariogram", variogram=regional_file)
    resumed.set_extra_state(json.loads(json.dumps(loss.get_extra_state())))
    rng = np.random.default_rng(0)
    coords = torch.tensor(np.stack([rng.uniform(-60, 60, 40), rng.uniform(-180, 180, 40)], 1))
    inputs = ContrastiveInputs(targets=torch.arange(8), anchor_coords=coords[:8],
                               candidate_coords=coords,
                               anchor_features=torch.randn(8, 128, generator=torch.Generator()
                                                           .manual_seed(1)),
                               candidate_features=torch.randn(40, 128, generator=torch
                                                              .Generator().manual_seed(2)))
    logits = torch.randn(8, 40, generator=torch.Generator().manual_seed(3))
    assert torch.equal(loss(logits, inputs), resumed(logits, inputs))


def test_blending_keeps_the_regions_and_moves_each_curve_part_way(regional_file):
    old = load_variogram(regional_file)
    assert isinstance(old, RegionalVariogram)
    new = old.with_curves(old.global_fit, [blend(r.fitted, old.global_fit, 1.0)
                                           for r in old.regions])  # every region: global
    mixed = blend_regional(old, new, 0.5)
    h = np.geomspace(10, 10000, 30)
    for before, after in zip(old.regions, mixed.regions, strict=True):
        halfway = 0.5 * before.fitted.gamma(h) + 0.5 * old.global_fit.gamma(h)
        scale = old.global_fit.sill
        assert np.abs(after.fitted.gamma(h) - halfway).max() < 0.02 * scale
        assert (after.lat, after.lon) == (before.lat, before.lon)
    assert mixed.global_fit is not old.global_fit  # blended (old and new global are equal)
