"""``geovario variogram``: fit the semivariogram of features against great-circle distance."""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from geovario.errors import GeovarioError
from geovario.metrics.io import read_coord_csv
from geovario.variogram import AUTO_MODELS, FittedVariogram, empirical_variogram, fit_variogram
from geovario.variogram.fit import WEIGHTINGS

#: Beyond this many points an exact all-pairs pass is impractical on a CPU (N²/2 pairs);
#: the command then samples pairs unless told otherwise.
EXACT_LIMIT = 200_000
DEFAULT_SAMPLED_PAIRS = 50_000_000


def register(subparsers) -> None:
    """Add the ``variogram`` command."""
    parser = subparsers.add_parser(
        "variogram", help="fit a semivariogram of feature dissimilarity vs distance",
        description="Empirical semivariogram of pair dissimilarity against great-circle "
        "distance, and a fitted model (nugget, partial sill, practical range in km).")
    parser.add_argument("features", nargs="?", type=Path,
                        help="FEATURES.npy: an (N, D) or (N,) array")
    parser.add_argument("coords", nargs="?", type=Path,
                        help="COORDS.csv with latitude,longitude in the row order of FEATURES")
    parser.add_argument("--store", type=Path, help="read features and coordinates from a store")
    parser.add_argument("--dissimilarity", choices=("cosine", "euclidean"), default="cosine")
    parser.add_argument("--estimator", choices=("matheron", "cressie"), default="matheron")
    parser.add_argument("--bins", type=int, default=15)
    parser.add_argument("--max-km", type=float, default=None,
                        help="largest distance binned (default: half the largest distance)")
    parser.add_argument("--log-bins", action="store_true", help="log-spaced bins")
    parser.add_argument("--model", choices=(*AUTO_MODELS, "auto"), default="stable")
    parser.add_argument("--weighting", choices=WEIGHTINGS, default="pairs")
    parser.add_argument("--min-pairs", type=int, default=30,
                        help="bins with fewer pairs are left out of the fit")
    parser.add_argument("--no-nugget", action="store_true", help="fix the nugget at 0")
    parser.add_argument("--pairs", type=int, default=None,
                        help=f"sample this many random pairs instead of all (default for "
                        f"N > {EXACT_LIMIT:,}: {DEFAULT_SAMPLED_PAIRS:,})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--chunk-size", type=int, default=2048)
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
    features, coords = load_inputs(args)
    pairs = args.pairs
    if pairs is None and len(coords) > EXACT_LIMIT:
        pairs = DEFAULT_SAMPLED_PAIRS
        print(f"variogram: {len(coords):,} points; sampling {pairs:,} random pairs "
              "(--pairs to change)", file=sys.stderr)
    empirical = empirical_variogram(
        coords, features, bins=args.bins, max_km=args.max_km, log_bins=args.log_bins,
        dissimilarity=args.dissimilarity, estimator=args.estimator, pairs=pairs,
        seed=args.seed, device=args.device, chunk_size=args.chunk_size,
        progress=not args.json)
    fitted = fit_variogram(empirical, model=args.model, weighting=args.weighting,
                           min_pairs=args.min_pairs, fit_nugget=not args.no_nugget)
    if args.out is not None:
        fitted.save(args.out)
    if args.plot is not None:
        from geovario.variogram.plot import plot_variogram

        plot_variogram(fitted, args.plot, log_x=args.log_bins)
    if args.json:
        print(json.dumps(fitted.to_dict()))
    else:
        print(format_fit(fitted))
    return 0


def format_fit(fitted: FittedVariogram) -> str:
    """A readable summary: parameters, then one line per bin."""
    shape = "-" if fitted.shape is None else f"{fitted.shape:.4g}"
    lines = [
        f"model         {fitted.model}  ({fitted.dissimilarity} dissimilarity, "
        f"{fitted.estimator})",
        f"nugget        {fitted.nugget:.6g}",
        f"partial sill  {fitted.partial_sill:.6g}",
        f"sill          {fitted.sill:.6g}",
        f"range         {fitted.range_km:,.1f} km (practical, 95 % of the partial sill)"
        + ("  [at the search bound]" if fitted.range_at_bound else ""),
        f"shape         {shape}",
        "",
        f"{'lag km':>12} {'gamma':>12} {'pairs':>14}",
    ]
    emp = fitted.empirical
    for lag, gamma, count in zip(emp.lag_km, emp.gamma, emp.pairs, strict=True):
        lines.append(f"{lag:12.1f} {gamma:12.6g} {count:14,d}")
    return "\n".join(lines)
