"""``geovario variogram``: fit the semivariogram of features against great-circle distance."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from geovario.commands.options import add_deprecated, add_device, add_quiet
from geovario.commands.variogram_regions import format_regions, format_selection
from geovario.errors import GeovarioError
from geovario.fileio import write_json_atomic
from geovario.metrics.io import read_coord_csv
from geovario.variogram import (
    FAMILIES,
    WEIGHTINGS,
    FittedVariogram,
    empirical_variogram,
    fit_variogram,
)
from geovario.variogram.bins import DEFAULT_MIN_KM, DEFAULT_PER_DECADE, standard_bins
from geovario.variogram.models import nested_family_names, single_family_names
from geovario.variogram.pair_ops import choose_backend
from geovario.variogram.regional_fit import (
    DEFAULT_MIN_POINTS,
    DEFAULT_SAMPLE,
    DEFAULT_SHRINKAGE_PAIRS,
)
from geovario.variogram.regional_select import (
    DEFAULT_CANDIDATES,
    DEFAULT_FOLDS,
    DEFAULT_HOLDOUT,
)
from geovario.variogram.structures import SLOPE_PER_RADIAN

#: Beyond this many points an exact all-pairs pass is impractical on a CPU (N²/2 pairs);
#: the command then samples pairs unless told otherwise.
EXACT_LIMIT = 200_000
DEFAULT_SAMPLED_PAIRS = 50_000_000


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``variogram`` command."""
    parser.description = (
        "Empirical semivariogram of pair dissimilarity against great-circle "
        "distance, and a fitted curve (nugget, structures with partial sill and practical "
        "range in km). By default the bins are log-spaced from 1 km to the largest distance "
        "and the best single or nested variogram family is chosen by Akaike's criterion.")
    parser.add_argument("features", nargs="?", type=Path,
                        help="FEATURES.npy: an (N, D) or (N,) array")
    parser.add_argument("coords", nargs="?", type=Path,
                        help="COORDS.csv with latitude,longitude in the row order of FEATURES")
    parser.add_argument("--store", type=Path, help="read features and coordinates from a store")
    parser.add_argument("--dissimilarity", choices=("cosine", "euclidean"), default="cosine",
                        help="pair dissimilarity")
    parser.add_argument("--estimator", choices=("matheron", "cressie"), default="matheron",
                        help="per-bin estimator (cressie needs euclidean)")
    parser.add_argument("--min-km", type=float, default=DEFAULT_MIN_KM,
                        help="first bin [0, MIN_KM), then log-spaced bins (without --bins)")
    parser.add_argument("--per-decade", type=int, default=DEFAULT_PER_DECADE,
                        help="log-spaced bins per decade of distance (without --bins)")
    parser.add_argument("--bins", type=int, default=None,
                        help="instead of the log layout: this many linear bins (log-spaced with "
                        "--log-bins) up to --max-km")
    parser.add_argument("--max-km", type=float, default=None,
                        help="largest distance binned; if not given, the largest pair "
                        "distance of a 2,000-point sample (half of it with --bins)")
    parser.add_argument("--log-bins", action="store_true",
                        help="with --bins: log-spaced from MAX_KM / 1000")
    families = (*FAMILIES, "auto")
    parser.add_argument("--family", choices=families, default="auto", metavar="FAMILY",
                        help=f"variogram family: {', '.join(single_family_names())}; a nested "
                        "short+long pair of "
                        f"{', '.join(sorted({m.split('+')[0] for m in nested_family_names()}))} "
                        "(e.g. exponential+exponential); or auto: every one of them, the best "
                        "by Akaike's criterion")
    add_deprecated(parser, "--model", new="--family", dest="family", unset="auto",
                   choices=families, metavar="FAMILY")
    parser.add_argument("--weighting", choices=WEIGHTINGS, default="balanced",
                        help="bin weights: balanced = N/(1 + N/2000), pairs = N, cressie = "
                        "N/gamma^2, equal")
    parser.add_argument("--min-pairs", type=int, default=30,
                        help="bins with fewer pairs are left out of the fit")
    parser.add_argument("--no-nugget", action="store_true", help="fix the nugget at 0")
    parser.add_argument("--pairs", type=int, default=None,
                        help=f"sample this many random pairs instead of all; if not given, all "
                        f"pairs up to N = {EXACT_LIMIT:,} points, {DEFAULT_SAMPLED_PAIRS:,} "
                        "sampled pairs beyond")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of pair sampling and of the sample that sets MAX_KM")
    add_device(parser, "the pair pass")
    add_quiet(parser)
    parser.add_argument("--chunk-size", type=int, default=2048,
                        help="rows per tile of the pair pass")
    regional = parser.add_argument_group(
        "region-wise variogram (--regions K or auto): a curve per region of places, shrunk "
        "toward the global one where the region has few pairs")
    regional.add_argument("--regions", type=region_count, default=0, metavar="K",
                          help="also fit up to K regions (k-means clusters of the places; "
                          "the loss uses each anchor's region); 0: global only; auto: the K "
                          "among --region-candidates that predicts held-out places best "
                          "(default: 0)")
    regional.add_argument("--region-candidates", type=candidate_list, default=None,
                          metavar="K,K,...", help="with --regions auto: the K to try, 1 = the "
                          "global curve alone (default: "
                          f"{','.join(map(str, DEFAULT_CANDIDATES))})")
    regional.add_argument("--region-holdout", type=float, default=DEFAULT_HOLDOUT,
                          metavar="FRACTION", help="with --regions auto: the share of the "
                          "places held out at random to score the candidates (default: "
                          f"{DEFAULT_HOLDOUT:g})")
    regional.add_argument("--region-folds", type=int, default=DEFAULT_FOLDS, metavar="V",
                          help="with --regions auto: V >= 2 holds out each of V random parts "
                          "in turn (V times the fitting, every place scored); 1 holds out one "
                          f"random share (--region-holdout), cheaper and noisier (default: "
                          f"{DEFAULT_FOLDS})")
    regional.add_argument("--region-min-points", type=int, default=DEFAULT_MIN_POINTS,
                          metavar="N", help="fewest places a region may hold; thinner clusters "
                          f"are merged into their neighbours (default: {DEFAULT_MIN_POINTS})")
    regional.add_argument("--shrinkage-pairs", type=float, default=DEFAULT_SHRINKAGE_PAIRS,
                          metavar="KAPPA", help="a region's bin of n pairs weighs n / (n + KAPPA) "
                          "against the global curve (default: "
                          f"{DEFAULT_SHRINKAGE_PAIRS:g})")
    regional.add_argument("--region-family", choices=("global", *families),
                          default="auto", metavar="FAMILY", help="the regions' variogram "
                          "family: auto (each region's by AICc), global (the global fit's, so "
                          "regions differ in nugget, sill and range, not shape; faster) or a "
                          "family name (default: auto)")
    parser.add_argument("--out", type=Path, default=None, help="write the fit as JSON here")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG plot here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def load_inputs(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """Features and coordinates from FEATURES.npy + COORDS.csv or from a store."""
    if args.store is not None:
        if args.features is not None:
            raise GeovarioError("give either --store or FEATURES.npy COORDS.csv, not both")
        from geovario.store import open_store

        store = open_store(args.store)
        store.check_one_view("variogram")
        return store.load_features(np.float32), store.coords
    if args.features is None or args.coords is None:
        raise GeovarioError("give FEATURES.npy and COORDS.csv, or --store DIR")
    try:
        features = np.load(args.features, mmap_mode="r")
    except FileNotFoundError:
        raise GeovarioError(f"{args.features}: no such file") from None
    except ValueError as error:
        raise GeovarioError(f"{args.features}: not a .npy array ({error})") from None
    coords = read_coord_csv(args.coords, id_required=False).coords
    if len(coords) != len(features):
        raise GeovarioError(f"{args.coords}: {len(coords)} rows but {args.features} has "
                            f"{len(features)}")
    return np.array(features, dtype=np.float32 if features.ndim == 2 else np.float64), coords


def run(args: argparse.Namespace) -> int:
    """Estimate, fit, save, plot and print."""
    check_region_options(args)
    features, coords = load_inputs(args)
    pairs = args.pairs
    if pairs is None and len(coords) > EXACT_LIMIT:
        pairs = DEFAULT_SAMPLED_PAIRS
        print(f"variogram: {len(coords):,} points; sampling {pairs:,} random pairs "
              "(--pairs to change)", file=sys.stderr)
    edges = standard_bins(coords, bins=args.bins, max_km=args.max_km, log_bins=args.log_bins,
                          min_km=args.min_km, per_decade=args.per_decade, seed=args.seed)
    empirical = empirical_variogram(
        coords, features, edges, dissimilarity=args.dissimilarity,
        estimator=args.estimator, pairs=pairs, seed=args.seed,
        device=pass_device(args.device, len(coords), pairs), chunk_size=args.chunk_size,
        progress=not (args.json or args.quiet))
    fitted = fit_variogram(empirical, model=args.family, weighting=args.weighting,
                           min_pairs=args.min_pairs, fit_nugget=not args.no_nugget)
    result, selection = fitted, None
    region_model = region_family(args.region_family)
    if args.regions == "auto":
        from geovario.variogram.regional_select import select_regions

        selection = select_regions(coords, features, fitted,
                                   candidates=args.region_candidates or DEFAULT_CANDIDATES,
                                   holdout=args.region_holdout, folds=args.region_folds,
                                   min_points=args.region_min_points,
                                   shrinkage_pairs=args.shrinkage_pairs, model=args.family,
                                   region_model=region_model,
                                   fit_nugget=not args.no_nugget, seed=args.seed)
    regions = selection.chosen if selection is not None else args.regions
    if regions > 1 or (regions == 1 and selection is None):
        from geovario.variogram.regional_fit import fit_regional_variogram

        result = fit_regional_variogram(coords, features, fitted, regions=regions,
                                        min_points=args.region_min_points,
                                        shrinkage_pairs=args.shrinkage_pairs,
                                        model=region_model, seed=args.seed)
    record = result.to_dict()
    if selection is not None:
        record["region_selection"] = selection.to_dict()
    if args.out is not None:
        write_json_atomic(args.out, record)
    if args.plot is not None:
        from geovario.variogram.regional_plot import plot_any_variogram

        plot_any_variogram(result, args.plot)
    if args.json:
        print(json.dumps(record))
        return 0
    print(format_fit(fitted))
    if selection is not None:
        print(format_selection(selection))
    if result is not fitted:
        print(format_regions(result, DEFAULT_SAMPLE))
    return 0


def check_region_options(args: argparse.Namespace) -> None:
    """Refuse region options that do not go together, before any work."""
    if args.region_candidates is not None and args.regions != "auto":
        raise GeovarioError("variogram: --region-candidates needs --regions auto")
    if args.regions == "auto" and not 0 < args.region_holdout < 1:
        raise GeovarioError(f"variogram: --region-holdout must lie in (0, 1), got "
                            f"{args.region_holdout:g}")
    if args.regions == "auto" and args.region_folds < 1:
        raise GeovarioError(f"variogram: --region-folds must be at least 1, got "
                            f"{args.region_folds}")


def region_count(text: str) -> int | str:
    """``--regions``: a count >= 0, or ``auto``."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or auto, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or auto, got {value}")
    return value


def region_family(choice: str) -> str | None:
    """``--region-family``: "global" means the global fit's family (None to the fitters)."""
    return None if choice == "global" else choice


def candidate_list(text: str) -> tuple[int, ...]:
    """``--region-candidates``: comma-separated counts >= 1."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts like 1,2,4, got {text!r}") from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"every candidate must be >= 1, got {text!r}")
    return values


def pass_device(device: str, n_points: int, pairs: int | None) -> str:
    """Where the pair pass runs; ``auto`` picks the CPU for a pass numpy takes.

    There a GPU would save less time than loading torch and CUDA costs, so a small
    ``geovario variogram`` never imports torch.
    """
    if device == "auto" and choose_backend("cpu", n_points, pairs) == "numpy":
        return "cpu"
    from geovario.distributed import resolve_device

    return resolve_device(device)


def format_fit(fitted: FittedVariogram) -> str:
    """A readable summary: parameters, structures, ranges, γ at the report distances, bins."""
    shape = "-" if fitted.shape is None else f"{fitted.shape:.4g}"
    lines = [
        f"family        {fitted.model}  ({fitted.dissimilarity} dissimilarity, "
        f"{fitted.estimator}, {fitted.fit.weighting} weights)",
        f"nugget        {fitted.nugget:.6g}",
        f"partial sill  {fitted.partial_sill:.6g}",
        f"sill          {fitted.sill:.6g}",
    ]
    for i, s in enumerate(fitted.structures, start=1):
        extra = "" if s.shape is None else f", shape {s.shape:.4g}"
        lines.append(f"structure {i}   {s.model}: partial sill {s.partial_sill:.6g}, "
                     f"range {s.range_km:,.1f} km{extra}")
    lines += [
        f"range         {fitted.range_km:,.1f} km (practical: 95 % of the partial sill"
        + (", effective range of the summed curve)" if fitted.nested else ")")
        + ("  [at the search bound]" if fitted.fit.range_at_bound else ""),
        f"slope range   {fitted.slope_range_km():,.1f} km (slope below {SLOPE_PER_RADIAN:g} "
        "per radian)",
        f"shape         {shape}",
        "gamma at      " + ", ".join(f"{km} km {value:.4g}"
                                     for km, value in fitted.gamma_at_km().items()),
        "",
        f"{'lag km':>12} {'gamma':>12} {'pairs':>14}",
    ]
    emp = fitted.empirical
    for lag, gamma, count in zip(emp.lag_km, emp.gamma, emp.pairs, strict=True):
        lines.append(f"{lag:12.1f} {gamma:12.6g} {count:14,d}")
    return "\n".join(lines)
