"""The paired bootstrap against answers known in closed form."""

import numpy as np
import pandas as pd
import pytest

from geovario.ablation import compare_runs, paired_differences
from geovario.errors import GeovarioError


def test_a_constant_shift_is_measured_exactly_with_a_zero_width_interval():
    rng = np.random.default_rng(0)
    base = [rng.uniform(50, 5000, 500) for _ in range(3)]
    better = [e - 10.0 for e in base]
    out = paired_differences(base, better, resamples=200)
    for key in ("mean_km", "median_km"):
        assert out[key]["mean"] == pytest.approx(-10.0)
        assert out[key]["ci_low"] == pytest.approx(-10.0)
        assert out[key]["ci_high"] == pytest.approx(-10.0)
        assert out[key]["per_seed"] == pytest.approx([-10.0] * 3)


def test_interval_of_an_accuracy_gain_matches_the_normal_approximation():
    # One seed; the variant moves a random 10 % of images from 100 km to 10 km. The per-image
    # difference in "within 25 km" is Bernoulli(p) with p the moved share, so the bootstrap
    # interval of the mean should be p̂ ± 1.96·sqrt(p̂(1 − p̂)/n) (central limit theorem).
    rng = np.random.default_rng(1)
    n = 4000
    base = np.full(n, 100.0)
    moved = rng.random(n) < 0.1
    variant = np.where(moved, 10.0, base)
    out = paired_differences([base], [variant], resamples=4000, seed=2)["acc_25km"]
    p = moved.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / n)
    assert out["mean"] == pytest.approx(p)
    assert out["ci_low"] == pytest.approx(p - half, abs=0.15 * half)
    assert out["ci_high"] == pytest.approx(p + half, abs=0.15 * half)
    # Nothing moved across 1 km: that difference is zero with a zero-width interval.
    assert (out := paired_differences([base], [variant], resamples=50)["acc_1km"]) and \
        out["ci_low"] == out["ci_high"] == 0.0


def test_pairing_removes_the_spread_the_seeds_share():
    # Seeds differ a lot (each seed's errors scaled), the variant is 1 % better on every
    # image: unpaired seeds would overlap, the paired interval excludes zero.
    rng = np.random.default_rng(3)
    images = rng.uniform(100, 3000, 1000)
    base = [images * scale for scale in (0.7, 1.0, 1.3)]
    variant = [e * 0.99 for e in base]
    out = paired_differences(base, variant, resamples=500)["geoscore"]
    assert out["ci_low"] > 0
    assert min(out["per_seed"]) > 0


def test_compare_runs_reads_predictions_and_refuses_other_images(tmp_path):
    for name, errors, ids in (("a", [30.0, 30.0], ["1", "2"]), ("b", [5.0, 30.0], ["1", "2"]),
                              ("c", [5.0, 30.0], ["1", "3"])):
        (tmp_path / name).mkdir()
        pd.DataFrame({"id": ids, "error_km": errors}).to_csv(tmp_path / name / "predictions.csv",
                                                             index=False)
    out = compare_runs([tmp_path / "a"], [tmp_path / "b"], resamples=20)
    assert out["mean_km"]["mean"] == pytest.approx(-12.5)
    assert out["acc_25km"]["per_seed"] == pytest.approx([0.5])
    with pytest.raises(GeovarioError, match="was evaluated on other images than"):
        compare_runs([tmp_path / "a"], [tmp_path / "c"])
    with pytest.raises(GeovarioError, match="no per-image predictions"):
        compare_runs([tmp_path / "a"], [tmp_path / "missing"])
    with pytest.raises(GeovarioError, match="same positive number of seeds"):
        paired_differences([np.ones(3)], [])
