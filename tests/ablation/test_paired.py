"""The paired intervals against answers known in closed form, and their coverage under a null."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from geovario.ablation import compare_runs, paired_differences
from geovario.ablation.paired import unit_codes
from geovario.ablation.resample import weighted_median
from geovario.errors import GeovarioError
from geovario.metrics.distance import metrics_along_last_axis


def test_weighted_median_is_the_median_of_the_repeated_values():
    rng = np.random.default_rng(0)
    errors = np.sort(rng.uniform(0, 100, 37))
    weights = rng.integers(0, 4, size=(200, 37))
    weights[:, 5] += 1  # no empty multiset
    expected = [np.median(np.repeat(errors, w)) for w in weights]
    assert weighted_median(errors, weights) == pytest.approx(expected)


def test_a_constant_shift_is_measured_exactly_with_a_zero_width_interval():
    rng = np.random.default_rng(0)
    base = [rng.uniform(50, 5000, 500) for _ in range(3)]
    better = [e - 10.0 for e in base]
    out = paired_differences(base, better, clusters=np.arange(500) // 20, resamples=200)
    for key in ("mean_km", "median_km"):
        assert out[key]["mean"] == pytest.approx(-10.0)
        assert out[key]["ci_low"] == pytest.approx(-10.0)
        assert out[key]["ci_high"] == pytest.approx(-10.0)
        assert out[key]["per_seed"] == pytest.approx([-10.0] * 3)


def test_seed_to_seed_spread_alone_gives_the_t_interval_over_seeds():
    # Each seed's variant is better by its own constant: the test set adds nothing, so the
    # interval is the textbook t-interval of the per-seed differences (S - 1 = 3 df).
    rng = np.random.default_rng(1)
    shifts = np.array([4.0, 11.0, -2.0, 7.0])
    base = [rng.uniform(50, 5000, 300) for _ in shifts]
    out = paired_differences(base, [e - c for e, c in zip(base, shifts, strict=True)],
                             clusters=np.arange(300) // 10, resamples=100)["mean_km"]
    half = stats.t.ppf(0.975, 3) * shifts.std(ddof=1) / 2
    assert out["mean"] == pytest.approx(-shifts.mean())
    assert [out["ci_low"], out["ci_high"]] == pytest.approx([-shifts.mean() - half,
                                                             -shifts.mean() + half])
    assert out["seed_ci"] == pytest.approx([out["ci_low"], out["ci_high"]])
    assert out["df"] == pytest.approx(3.0)


def test_interval_of_an_accuracy_gain_matches_the_normal_approximation():
    # One seed, images independent; the variant moves a random 10 % of images from 100 km
    # to 10 km. The per-image difference in "within 25 km" is Bernoulli(p), so the
    # interval should be p̂ ± 1.96·sqrt(p̂(1 − p̂)/n) (central limit theorem).
    rng = np.random.default_rng(1)
    n = 4000
    base = np.full(n, 100.0)
    moved = rng.random(n) < 0.1
    variant = np.where(moved, 10.0, base)
    out = paired_differences([base], [variant], resamples=4000, seed=2)["acc_25km"]
    p = moved.mean()
    half = 1.96 * np.sqrt(p * (1 - p) / n)
    assert out["mean"] == pytest.approx(p)
    assert out["ci_low"] == pytest.approx(p - half, abs=0.1 * half)
    assert out["ci_high"] == pytest.approx(p + half, abs=0.1 * half)
    assert out["seed_ci"] is None  # one seed: no seed-level interval
    # Nothing moved across 1 km: that difference is zero with a zero-width interval.
    out = paired_differences([base], [variant], resamples=50)["acc_1km"]
    assert out["ci_low"] == out["ci_high"] == 0.0


def test_a_cluster_of_identical_images_counts_as_one_draw():
    # k copies of each image in one cluster resample exactly like the single images.
    rng = np.random.default_rng(4)
    base, variant = rng.uniform(10, 3000, (2, 60)), rng.uniform(10, 3000, (2, 60))
    single = paired_differences(list(base), list(variant), resamples=300, seed=5)
    copies = paired_differences(list(np.repeat(base, 7, axis=1)),
                                list(np.repeat(variant, 7, axis=1)),
                                clusters=np.repeat(np.arange(60), 7), resamples=300, seed=5)
    for key, cell in single.items():
        assert copies[key]["ci_low"] == pytest.approx(cell["ci_low"]), key
        assert copies[key]["ci_high"] == pytest.approx(cell["ci_high"]), key


def test_every_seed_shares_one_resample_of_the_test_set():
    # Three seeds that are exact copies of one: a shared draw gives exactly the one-seed
    # interval; if each seed drew its own resample the seeds' errors would average out and
    # the interval would shrink by about sqrt(3).
    rng = np.random.default_rng(6)
    base, variant = rng.uniform(10, 3000, 400), rng.uniform(10, 3000, 400)
    clusters = np.arange(400) // 8
    one = paired_differences([base], [variant], clusters=clusters, resamples=500, seed=9)
    three = paired_differences([base] * 3, [variant] * 3, clusters=clusters, resamples=500,
                               seed=9)
    for key in ("mean_km", "median_km", "geoscore", "acc_750km"):
        assert three[key]["se_test"] == pytest.approx(one[key]["se_test"], rel=1e-9), key
        assert three[key]["se_seed"] == 0.0
        assert three[key]["ci_high"] - three[key]["ci_low"] == pytest.approx(
            one[key]["ci_high"] - one[key]["ci_low"], rel=1e-9)


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


# --- coverage under an exact null -----------------------------------------------------------

def _null_trial(rng, seeds, clusters, per_cluster, seed_sd):
    """Errors of two equally good losses on a clustered test set, seed by seed.

    log error = place + seed noise + (for each model) a region effect, a seed effect and a
    seed × region effect (both of spread ``seed_sd``) and image noise, all of mean zero: the
    models do not differ on average over regions and seeds, yet within a seed and a region
    one of them is ahead.
    """
    codes = np.repeat(np.arange(clusters), per_cluster)
    place = rng.normal(6.0, 1.0, codes.size)
    region = rng.normal(0, 0.05, clusters)  # the same in every seed: only cluster units see it
    base, variant = [], []
    for _ in range(seeds):
        common = place + rng.normal(0, 0.3, codes.size)
        for out, sign in ((base, -0.5), (variant, 0.5)):
            shift = (sign * region[codes] + rng.normal(0, seed_sd)
                     + rng.normal(0, seed_sd, clusters)[codes] + rng.normal(0, 0.05, codes.size))
            out.append(np.exp(common + shift))
    return base, variant, codes


def _old_image_bootstrap(base, variant, rng, resamples=200):
    """The intervals `ablate` reported before: percentiles over resampled images only."""
    rows = rng.integers(len(base[0]), size=(resamples, len(base[0])))
    per_seed = [(metrics_along_last_axis(v[rows]), metrics_along_last_axis(b[rows]))
                for b, v in zip(base, variant, strict=True)]
    return {key: np.percentile(np.mean([v[key] - b[key] for v, b in per_seed], axis=0),
                               [2.5, 97.5]) for key in per_seed[0][0]}


# One seed: nothing varies by seed (its spread cannot be estimated from one run); four
# seeds: the seed and seed × region effects are as large as the region effect.
@pytest.mark.parametrize(("seeds", "seed_sd"), [(1, 0.0), (4, 0.03)])
def test_under_an_exact_null_the_interval_excludes_zero_at_most_7_percent(seeds, seed_sd):
    rng = np.random.default_rng(seeds)
    trials, keys = 240, ("geoscore", "median_km", "acc_750km")
    new, old = {k: 0 for k in keys}, {k: 0 for k in keys}
    for trial in range(trials):
        base, variant, codes = _null_trial(rng, seeds, 24, 10, seed_sd)
        out = paired_differences(base, variant, clusters=codes, resamples=200, seed=trial)
        before = _old_image_bootstrap(base, variant, rng)
        for key in keys:
            new[key] += out[key]["ci_low"] > 0 or out[key]["ci_high"] < 0
            old[key] += before[key][0] > 0 or before[key][1] < 0
    for key in keys:
        assert new[key] / trials <= 0.07, (key, new[key] / trials)
    # The image-level bootstrap without the seeds, on the same data, is far from nominal.
    assert old["geoscore"] / trials > 0.2, old


def test_compare_runs_reads_predictions_clusters_by_id_and_refuses_other_images(tmp_path):
    for name, errors, ids in (("a", [30.0, 30.0, 30.0], ["1", "2", "3"]),
                              ("b", [5.0, 30.0, 30.0], ["1", "2", "3"]),
                              ("c", [5.0, 30.0, 30.0], ["1", "2", "4"])):
        (tmp_path / name).mkdir()
        pd.DataFrame({"id": ids, "error_km": errors}).to_csv(tmp_path / name / "predictions.csv",
                                                             index=False)
    out = compare_runs([tmp_path / "a"], [tmp_path / "b"], resamples=20)
    assert out["mean_km"]["mean"] == pytest.approx(-25 / 3)
    assert out["acc_25km"]["per_seed"] == pytest.approx([1 / 3])
    # Images 1 and 2 in one cluster, 3 alone: two units.
    clustered = compare_runs([tmp_path / "a"], [tmp_path / "b"], resamples=20,
                             clusters={"1": "x", "2": "x"})
    assert clustered["mean_km"]["df"] == pytest.approx(1.0)
    with pytest.raises(GeovarioError, match="was evaluated on other images than"):
        compare_runs([tmp_path / "a"], [tmp_path / "c"])
    with pytest.raises(GeovarioError, match="no per-image predictions"):
        compare_runs([tmp_path / "a"], [tmp_path / "missing"])
    with pytest.raises(GeovarioError, match="same positive number of seeds"):
        paired_differences([np.ones(3)], [])
    with pytest.raises(GeovarioError, match="form 1 unit"):
        paired_differences([np.ones(3)], [np.ones(3)], clusters=["a", "a", "a"])


def test_unit_codes_give_missing_labels_their_own_unit():
    codes = unit_codes(["b", None, "a", "b", np.nan], 5)
    assert codes[0] == codes[3] != codes[2]
    assert len(set(codes)) == 4
    with pytest.raises(GeovarioError, match="2 cluster labels for 3 images"):
        unit_codes(["a", "b"], 3)
