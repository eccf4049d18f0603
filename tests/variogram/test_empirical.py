import gstools as gs
import numpy as np
import pytest
import torch

from geovario.errors import GeovarioError
from geovario.geo import pairwise_km
from geovario.variogram import empirical_variogram, make_bin_edges, standard_bins
from geovario.variogram.empirical import MIN_BLOCKS, sample_block_size


def brute_force(coords, features, edges, dissimilarity):
    """All pairs in float64 numpy: per-bin counts, mean distance, mean and std of d."""
    h = pairwise_km(coords, coords)
    f = np.asarray(features, dtype=np.float64)
    if dissimilarity == "cosine":
        f = f / np.linalg.norm(f, axis=1, keepdims=True)
        d = 1.0 - f @ f.T
    else:
        d = 0.5 * ((f[:, None, :] - f[None, :, :]) ** 2).sum(-1)
    iu = np.triu_indices(len(coords), k=1)
    h, d = h[iu], d[iu]
    k = np.digitize(h, edges) - 1  # half-open [e_k, e_k+1)
    out = []
    for b in range(len(edges) - 1):
        sel = k == b
        out.append((sel.sum(), h[sel].mean(), d[sel].mean(), d[sel].std()))
    return [np.array(col) for col in zip(*out, strict=True)]


@pytest.mark.parametrize("layout", ["linear", "log", "standard"])
@pytest.mark.parametrize("estimator", ["matheron", "cressie"])
@pytest.mark.parametrize("seed", [0, 1])
def test_scalar_field_identical_to_gstools(sphere_points, seed, estimator, layout):
    coords = sphere_points(700, seed)
    z = np.random.default_rng(seed).normal(size=len(coords))
    if layout == "standard":  # the command line's default: [0, 1 km), log bins to the widest pair
        edges = standard_bins(coords)
        edges[-1] += 1e-6  # that pair lies on the edge, where two formulas round differently
    else:
        edges = make_bin_edges(9000, 15, log_bins=layout == "log", min_km=200)
    ours = empirical_variogram(coords, z, bin_edges_km=edges, dissimilarity="euclidean",
                               estimator=estimator, chunk_size=256)
    _, gamma, counts = gs.vario_estimate((coords[:, 0], coords[:, 1]), z, edges.copy(),
                                         latlon=True, geo_scale=gs.KM_SCALE,
                                         estimator=estimator, return_counts=True)
    np.testing.assert_array_equal(ours.pairs, counts)
    full = counts > 0  # an empty bin is NaN here, 0 in GSTools
    np.testing.assert_allclose(ours.gamma[full], gamma[full], rtol=1e-12)
    assert np.isnan(ours.gamma[~full]).all()


def test_vector_euclidean_equals_gstools_component_mean_times_dimension(sphere_points):
    coords = sphere_points(400, 3)
    fields = np.random.default_rng(3).normal(size=(3, len(coords)))
    edges = make_bin_edges(6000, 10)
    ours = empirical_variogram(coords, fields.T, bin_edges_km=edges, dissimilarity="euclidean")
    _, gamma, counts = gs.vario_estimate((coords[:, 0], coords[:, 1]), list(fields),
                                         edges.copy(), latlon=True, geo_scale=gs.KM_SCALE,
                                         return_counts=True)
    np.testing.assert_array_equal(3 * ours.pairs, counts)  # GSTools counts per component
    np.testing.assert_allclose(ours.gamma, 3 * gamma, rtol=1e-12)


@pytest.mark.parametrize("dissimilarity", ["cosine", "euclidean"])
def test_vectors_match_brute_force_numpy(sphere_points, dissimilarity):
    coords = sphere_points(300, 4)
    rng = np.random.default_rng(4)
    features = rng.normal(size=(300, 24)) + coords[:, :1] / 30  # some spatial structure
    edges = make_bin_edges(12000, 12)
    ours = empirical_variogram(coords, features, bin_edges_km=edges,
                               dissimilarity=dissimilarity, chunk_size=64)
    count, lag, mean_d, std_d = brute_force(coords, features, edges, dissimilarity)
    np.testing.assert_array_equal(ours.pairs, count)
    np.testing.assert_allclose(ours.lag_km, lag, rtol=1e-6)  # float32 per pair
    np.testing.assert_allclose(ours.gamma, mean_d, rtol=2e-6)
    np.testing.assert_allclose(ours.spread, std_d, rtol=1e-4)


def test_tiling_does_not_change_the_result(sphere_points):
    coords = sphere_points(157, 5)
    features = np.random.default_rng(5).normal(size=(157, 8))
    edges = make_bin_edges(20100, 9)
    small = empirical_variogram(coords, features, bin_edges_km=edges, chunk_size=13)
    large = empirical_variogram(coords, features, bin_edges_km=edges, chunk_size=4096)
    np.testing.assert_array_equal(small.pairs, large.pairs)
    assert small.pairs.sum() == 157 * 156 // 2  # every pair once (20,100 km covers the sphere)
    np.testing.assert_allclose(small.gamma, large.gamma, rtol=1e-6)


def test_sampled_pairs_estimate_the_exact_bins(sphere_points):
    coords = sphere_points(400, 6)
    features = np.random.default_rng(6).normal(size=(400, 16)) + coords[:, :1] / 20
    edges = make_bin_edges(10000, 8)
    exact = empirical_variogram(coords, features, bin_edges_km=edges)
    sampled = empirical_variogram(coords, features, bin_edges_km=edges, pairs=400_000, seed=1)
    assert sampled.sampled_pairs == 400_000
    # Each bin's sample mean lies within 5 standard errors of the exact mean.
    standard_error = exact.spread / np.sqrt(sampled.pairs)
    assert np.all(np.abs(sampled.gamma - exact.gamma) < 5 * standard_error)
    shares = sampled.pairs / sampled.pairs.sum()
    np.testing.assert_allclose(shares, exact.pairs / exact.pairs.sum(), atol=0.01)


def test_sampling_is_reproducible(sphere_points):
    coords = sphere_points(100, 7)
    z = np.random.default_rng(7).normal(size=100)
    a, b = (empirical_variogram(coords, z, standard_bins(coords, max_km=5000),
                                dissimilarity="euclidean", pairs=5000, seed=3) for _ in range(2))
    np.testing.assert_array_equal(a.gamma, b.gamma)


@pytest.mark.parametrize(("pairs", "chunk", "expected"),
                         [(300_000, 2048, 24), (10**8, 1024, 442), (10**8, 256, 256),
                          (100, 2048, 4)])
def test_sample_block_size_gives_many_small_blocks(pairs, chunk, expected):
    # b = round(√(pairs / 512)) within [4, chunk]: √(300,000 / 512) = 24.2, √(10⁸ / 512) = 442.
    size = sample_block_size(pairs, chunk)
    assert size == expected
    assert -(-pairs // size**2) >= min(MIN_BLOCKS, pairs // 16)


def test_sampled_pairs_do_not_hang_on_a_few_points(sphere_points):
    # i.i.d. z: d = ½(z_i − z_j)² has variance 2, and two pairs sharing one point have
    # covariance ½ (worked by hand from the normal moments). With b × b blocks a pair
    # shares a point with 2(b − 1) others, so the mean of P pairs has variance
    # (2 + (b − 1)) / P. One 1024 × 20 block (the former sampler) would make it 75 x that
    # of independent pairs; many small blocks keep it near (1 + b) / P.
    n, pairs = 5000, 20_000
    coords = sphere_points(n, 8)
    z = np.random.default_rng(8).normal(size=n)
    edges = np.array([0.0, 20100.0])
    means = [empirical_variogram(coords, z, bin_edges_km=edges, dissimilarity="euclidean",
                                 pairs=pairs, seed=seed, chunk_size=1024).gamma[0]
             for seed in range(24)]
    size = sample_block_size(pairs, 1024)
    expected_sd = np.sqrt((1 + size) / pairs)
    assert 0.5 * expected_sd < np.std(means, ddof=1) < 1.6 * expected_sd


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(sphere_points):
    coords = sphere_points(500, 8)
    features = np.random.default_rng(8).normal(size=(500, 32))
    edges = standard_bins(coords, max_km=8000)
    cpu = empirical_variogram(coords, features, edges)
    gpu = empirical_variogram(coords, features, edges, device="cuda")
    np.testing.assert_array_equal(cpu.pairs, gpu.pairs)
    np.testing.assert_allclose(cpu.gamma, gpu.gamma, rtol=1e-5)


def test_default_max_km_of_a_number_of_bins_is_half_the_largest_distance(sphere_points):
    coords = sphere_points(300, 9)
    edges = standard_bins(coords, bins=5)
    # Uniform points on the sphere come close to antipodal pairs: half ≈ πR/2 ≈ 10,000 km.
    assert len(edges) == 6 and 9500 < edges[-1] <= 10008


def test_log_bins_layout():
    edges = make_bin_edges(1000, 4, log_bins=True, min_km=1)
    np.testing.assert_allclose(edges, [0, 1, 10, 100, 1000])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(coords=[[0, 0]], values=[1.0]), "need at least two points, got 1"),
        (dict(coords=[[10, 10]] * 5, values=np.arange(5.0)), "all points are at one place"),
        (dict(values=[[1, 2], [np.nan, 0], [1, 1]]), r"1 feature rows contain NaN .* rows \[1\]"),
        (dict(values=[[1, 2], [0, 0], [1, 1]]), r"zero feature vectors at rows \[1\]"),
        (dict(values=[1.0, 2.0]), "3 coordinates but 2 feature rows"),
        (dict(bin_edges_km=[0.0, 0.5, 1.0]), "no pair of points is 0-1 km apart"),
        (dict(dissimilarity="l1"), "unknown dissimilarity 'l1'"),
        (dict(estimator="cressie"), "the cressie estimator needs dissimilarity 'euclidean'"),
        (dict(coords=[[0, 0], [95, 0], [1, 1]]), r"1 invalid coordinates"),
        (dict(bin_edges_km=[0, 5, 5]), "bin edges must be at least two increasing distances"),
    ],
)
def test_degenerate_input_is_a_clear_error(kwargs, message):
    args = dict(coords=[[0, 0], [0, 10], [10, 0]], values=[[1, 0], [0, 1], [1, 1]])
    args.update(kwargs)
    with pytest.raises(GeovarioError, match=message):
        empirical_variogram(args.pop("coords"), args.pop("values"), **args)


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 5), "max_km must be positive"), ((100, 0), "bins must be at least 1")],
)
def test_bad_bin_layout(args, message):
    with pytest.raises(GeovarioError, match=message):
        make_bin_edges(*args)
    with pytest.raises(GeovarioError, match=r"min_km must lie in \(0, max_km=100\)"):
        make_bin_edges(100, 3, log_bins=True, min_km=200)


@pytest.mark.parametrize("dissimilarity,estimator,dim", [
    ("cosine", "matheron", 16), ("euclidean", "matheron", 1), ("euclidean", "cressie", 1),
    ("euclidean", "matheron", 5)])
def test_numpy_pass_equals_torch_pass(sphere_points, dissimilarity, estimator, dim):
    coords = sphere_points(900, 3)
    values = np.random.default_rng(3).normal(size=(len(coords), dim))
    runs = [empirical_variogram(coords, values, dissimilarity=dissimilarity,
                                estimator=estimator, chunk_size=256, feature_dtype="float64",
                                backend=backend) for backend in ("numpy", "torch")]
    numpy_run, torch_run = runs
    np.testing.assert_array_equal(numpy_run.pairs, torch_run.pairs)
    for name in ("lag_km", "gamma", "spread"):
        np.testing.assert_allclose(getattr(numpy_run, name), getattr(torch_run, name),
                                   rtol=1e-12, atol=1e-15, err_msg=name)
    assert numpy_run.pairs.sum() > 0.99 * len(coords) * (len(coords) - 1) / 2


def test_backend_auto_is_numpy_for_a_small_cpu_pass_only():
    from geovario.variogram.pair_ops import NUMPY_MAX_PAIRS, choose_backend

    assert choose_backend("cpu", 5000, None) == "numpy"
    assert choose_backend("cpu", 5000, 10**6) == "torch"  # sampled pairs
    assert choose_backend("cuda", 5000, None) == "torch"
    largest = int((1 + (1 + 8 * NUMPY_MAX_PAIRS) ** 0.5) / 2)
    assert choose_backend("cpu", largest, None) == "numpy"
    assert choose_backend("cpu", largest + 1, None) == "torch"


def test_numpy_backend_refuses_sampled_pairs(sphere_points):
    with pytest.raises(GeovarioError, match="numpy for an exact pass on the CPU"):
        empirical_variogram(sphere_points(50, 0), np.ones((50, 2)), pairs=100,
                            backend="numpy")


def test_variogram_command_on_a_small_cpu_input_never_loads_torch(tmp_path, sphere_points,
                                                                   modules_loaded_by):
    coords = sphere_points(300, 0)
    np.save(tmp_path / "f.npy", np.random.default_rng(0).normal(size=len(coords)))
    (tmp_path / "c.csv").write_text("latitude,longitude\n" + "\n".join(
        f"{lat},{lon}" for lat, lon in coords))
    out = tmp_path / "fit.json"
    code = ("import contextlib, io\nfrom geovario.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['variogram', {str(tmp_path / 'f.npy')!r}, "
            f"{str(tmp_path / 'c.csv')!r}, '--dissimilarity', 'euclidean', '--quiet', "
            f"'--out', {str(out)!r}]) == 0")
    loaded = modules_loaded_by(code, ("torch",))
    assert out.exists() and "slope_range_km" in out.read_text()
    assert loaded == []
