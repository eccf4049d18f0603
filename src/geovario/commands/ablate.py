"""``geovario ablate``: the semivariogram loss's ablation on the same features and seeds."""

import argparse
from pathlib import Path

from geovario.ablation.paired import RESAMPLES
from geovario.ablation.variants import list_variants
from geovario.commands.options import add_device, add_folder, required_folder
from geovario.commands.run_options import add_gallery
from geovario.commands.train import (
    add_loss_arguments,
    add_training_arguments,
    configs_from_args,
    flag_options,
)
from geovario.errors import GeovarioError


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``ablate`` command."""
    parser.description = (
        "Train InfoNCE, hard-only, false-only, both and the prototype rule on the same "
        "features with the same seeds, evaluate each on a test store (or, with "
        "--select-fraction, on a validation part held out of the training store), compare "
        "every variant with the baseline paired by seed (95 % intervals from a bootstrap over "
        "the test set's independent units, clusters where it has them, plus the seed-to-seed "
        "variance), and write OUT/ablation.md, OUT/ablation.json, OUT/accuracy.png and "
        "OUT/paired.png. Rerunning continues; runs made with other settings are refused.")
    add_folder(parser, "OUT", "folder of the runs (OUT/runs/<variant>-seed<k>) and the report")
    parser.add_argument("--train-store", type=Path, required=True,
                        help="feature store every variant trains on")
    parser.add_argument("--test-store", type=Path, default=None,
                        help="feature store every variant is evaluated on (leave out with "
                        "--select-fraction)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds 0..N-1; the same seed gives every variant the same "
                        "initialisation and batches")
    parser.add_argument("--variants", default=",".join(list_variants()),
                        help="comma-separated subset of the variants")
    parser.add_argument("--baseline", default="infonce",
                        help="the variant every other one is compared to, paired by seed")
    add_gallery(parser)
    parser.add_argument("--variogram", type=Path, default=None,
                        help="variogram JSON (default: fitted on a sample of the train store)")
    parser.add_argument("--cluster-column", default="auto", metavar="NAME",
                        help="label column whose values group test images that are not "
                        "independent (a bootstrap draws whole groups): auto takes 'cluster' "
                        "(written by geovario bluemarble build; copy it with extract --labels) "
                        "or 'cell' when the test store has one, else every image is its own "
                        "unit; image: every image (default: auto)")
    parser.add_argument("--clusters", type=Path, default=None, metavar="CSV",
                        help="read --cluster-column from this CSV (id + the column, e.g. the "
                        "Blue Marble build's test.csv) instead of the test store's labels")
    parser.add_argument("--resamples", type=int, default=RESAMPLES,
                        help=f"bootstrap resamples (default: {RESAMPLES})")
    group = parser.add_argument_group(
        "selection set: choose settings on a validation part of the training store, never "
        "on the test set")
    group.add_argument("--select-fraction", type=float, default=None, metavar="F",
                       help="hold out this share of the training store's places, train on the "
                       "rest and score every run on them (OUT/selection/); no --test-store")
    group.add_argument("--select-region-km", type=float, default=0.0, metavar="D",
                       help="held-out places come in discs of diameter D around random "
                       "places, like the blocked layout's test regions; 0: each place alone, "
                       "like the interleaved layout and OSV-5M (default: 0)")
    group.add_argument("--select-regions", type=int, default=32, metavar="R",
                       help="with --select-region-km: at least about R regions (default: 32)")
    group.add_argument("--select-buffer-km", type=float, default=25.0, metavar="KM",
                       help="drop training places within KM of a held-out place, as the test "
                       "set keeps its distance (blocked layout: 446; default: 25)")
    add_training_arguments(parser)
    add_device(parser, "training and evaluation")
    add_loss_arguments(parser.add_argument_group(
        "semivariogram loss: the base settings of every semivariogram variant (a variant "
        "overrides what defines it, e.g. hard-only sets --false-negatives none)"),
        "semivariogram")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the grid, then write and print the table."""
    from geovario.ablation import compare_to_baseline, run_ablation, summarize, write_report
    from geovario.ablation.clusters import resolve_units
    from geovario.ablation.selection import SelectionSplit, selection_facts

    args.out = required_folder(args.out, "OUT")
    model, config = configs_from_args(args, args.train_store)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    selection = None if args.select_fraction is None else SelectionSplit(
        args.select_fraction, args.select_region_km, args.select_regions, args.select_buffer_km)
    if selection is not None and args.clusters is not None:
        raise GeovarioError("ablate: --clusters describes a test store; the selection set's "
                            "regions are its own 'cluster' column")
    if args.resamples < 100:
        raise GeovarioError(f"ablate: --resamples must be >= 100, got {args.resamples}")
    results, scored = run_ablation(
        args.out, config, model, test_store=args.test_store, variants=variants,
        seeds=args.seeds, gallery=args.gallery, variogram=args.variogram,
        loss_options=flag_options(args, "semivariogram"), selection=selection,
        progress=not args.quiet)
    scored_on = {"role": "test", "store": str(scored)} if selection is None else {
        "role": "selection", "store": str(scored),
        "selection": selection_facts(args.out / "selection")}
    paired = None
    if len(variants) > 1 and args.baseline in variants:
        units = resolve_units(scored, args.cluster_column, args.clusters)
        paired = compare_to_baseline(args.out, variants, args.seeds, args.baseline,
                                     units=units, resamples=args.resamples)
    paths = write_report(args.out, summarize(results), args.seeds, results=results,
                         paired=paired, baseline=args.baseline, scored_on=scored_on)
    print(paths["markdown"].read_text())
    return 0
