"""``geovario demo``: the whole method on offline data, ending in a report."""

import argparse
from pathlib import Path

from geovario.commands.options import add_device, add_folder, add_layout, add_quiet
from geovario.precision import AMP_MODES


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` command."""
    parser.description = (
        "Build the Blue Marble benchmark, extract EfficientNet-Lite0 features, "
        "fit the semivariogram, train GeoCLIP (InfoNCE) and the semivariogram variant, "
        "evaluate both against the published 100K gallery and write OUT/report.html and "
        "OUT/report.md. A rerun reuses every finished stage.")
    add_folder(parser, "OUT", "folder of every stage's output, the runs and the report "
               "(default: demo-out)", default=Path("demo-out"))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a first look")
    add_layout(parser, "interleaved", "how the Blue Marble build lays test places out: "
               "interleaved: OSV-5M-like, test towns near training ones all over the world; "
               "blocked: test regions far from all training; fine: test places 0.5-5 km "
               "from training ones")
    add_device(parser, "extraction and training")
    parser.add_argument("--amp", choices=AMP_MODES, default="auto",
                        help="bfloat16 for training and the gallery: auto (where the hardware "
                        "multiplies it natively), bf16 or off (float32 throughout)")
    add_quiet(parser)
    parser.add_argument("--workers", type=int, default=2, help="image decoding threads")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and say where the report is."""
    from geovario.demo import run_demo
    from geovario.distributed import resolve_device

    result = run_demo(args.out, quick=args.quick, layout=args.layout, amp=args.amp,
                      device=resolve_device(args.device), workers=args.workers,
                      progress=not args.quiet)
    base, ours = result.metrics["infonce"], result.metrics["semivariogram"]
    print(f"demo: done. Report: {args.out / 'report.html'} (and report.md)")
    print(f"demo: median error {base['median_km']:,.0f} km (InfoNCE) vs "
          f"{ours['median_km']:,.0f} km (semivariogram); accuracy within 750 km "
          f"{100 * base['acc_750km']:.1f} % vs {100 * ours['acc_750km']:.1f} %")
    return 0
