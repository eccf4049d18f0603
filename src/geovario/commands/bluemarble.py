"""``geovario bluemarble build --out DIR``: the offline Blue Marble geolocalization benchmark.

Writes satellite patches around GeoNames places in OSV-5M's layout (train/test CSVs and
zip shards of JPEGs), with no test place within ``--min-separation-km`` of a train place.
A rerun with the same parameters reuses the finished build. See
:mod:`geovario.data.bluemarble` for what the imagery is and why the defaults are what they are.
"""

import argparse

from geovario.commands.options import add_layout, add_quiet
from geovario.data.bluemarble import (
    BLOCKED_TEST_REGIONS,
    FINE_SEPARATION_KM,
    INTERLEAVED_SEPARATION_KM,
    BuildConfig,
    build_bluemarble,
    default_separation_km,
)

DEFAULTS = BuildConfig()


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``bluemarble`` with its ``build`` sub-command."""
    parser.description = (
        "Offline geolocalization benchmark from NASA Blue Marble imagery "
        "(satellite true colour, ~7.4 km per source pixel; not street view).")
    actions = parser.add_subparsers(dest="bluemarble_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="write train/test CSVs and zip shards of patches in OSV-5M's layout",
        description="Cut patches of a fixed ground footprint around jittered GeoNames places, "
                    "label them with reverse_geocoder and write them in OSV-5M's layout.")
    build.add_argument("--out", required=True, metavar="DIR", help="output folder (empty, "
                       "missing, or holding a build with the same parameters)")
    build.add_argument("--train", type=int, default=DEFAULTS.train, metavar="N",
                       help=f"train patches (default {DEFAULTS.train})")
    build.add_argument("--test", type=int, default=DEFAULTS.test, metavar="M",
                       help=f"test patches (default {DEFAULTS.test})")
    build.add_argument("--patch-km", type=float, default=DEFAULTS.patch_km, metavar="K",
                       help=f"ground footprint, K x K km (default {DEFAULTS.patch_km:g})")
    build.add_argument("--pixels", type=int, default=DEFAULTS.pixels, metavar="P",
                       help=f"patch size in pixels, P x P (default {DEFAULTS.pixels})")
    add_layout(build, DEFAULTS.split,
               "how test places lie against train places: blocked: test regions share no "
               "ground with training (unseen regions); interleaved: OSV-5M-like, test places "
               "are other towns all over the world, near training places; fine: each test "
               "place 0.5-5 km from a training place, to resolve 1 and 25 km (evaluate "
               f"with --gallery geoclip+store:TRAIN) (default "
               f"{DEFAULTS.split})")
    build.add_argument("--min-separation-km", type=float, default=None, metavar="S",
                       help="no test place within S km of a train place (default, blocked: "
                            "sqrt(2)*(K + 2 source pixels), no shared ground: "
                            f"{default_separation_km(DEFAULTS.patch_km):g} km for K = "
                            f"{DEFAULTS.patch_km:g}; interleaved: "
                            f"{INTERLEAVED_SEPARATION_KM:g} km)")
    build.add_argument("--max-separation-km", type=float, default=None, metavar="T",
                       help="fine split: every test place has a train place within T km "
                            f"(default {FINE_SEPARATION_KM[1]:g}; S defaults to "
                            f"{FINE_SEPARATION_KM[0]:g} there)")
    build.add_argument("--test-regions", type=int, default=None, metavar="G",
                       help="about how many regions the test places come from (default, "
                            f"blocked: {BLOCKED_TEST_REGIONS}; interleaved: one per test "
                            "place)")
    build.add_argument("--shard-size", type=int, default=DEFAULTS.shard_size, metavar="N",
                       help=f"images per zip shard (default {DEFAULTS.shard_size})")
    build.add_argument("--seed", type=int, default=DEFAULTS.seed,
                       help=f"random seed (default {DEFAULTS.seed})")
    add_quiet(build)
    build.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build or reuse the benchmark and say which."""
    config = BuildConfig(train=args.train, test=args.test, patch_km=args.patch_km,
                         pixels=args.pixels, min_separation_km=args.min_separation_km,
                         max_separation_km=args.max_separation_km,
                         seed=args.seed, test_regions=args.test_regions,
                         shard_size=args.shard_size, split=args.layout)
    result = build_bluemarble(args.out, config, progress=not args.quiet)
    done = result.config
    what = (f"{done.split} layout, {done.train} train + {done.test} test patches of "
            f"{done.patch_km:g} km, "
            f"{done.pixels} x {done.pixels} px, separation {done.min_separation_km:g} km, "
            f"seed {done.seed}")
    if result.reused:
        print(f"bluemarble: {result.out} already holds this build ({what}); reusing it")
    else:
        print(f"bluemarble: wrote {what} to {result.out} in {sum(result.seconds.values()):.1f} s")
    return 0
