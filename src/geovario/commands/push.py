"""``geovario push``: share a trained run on the Hugging Face Hub, with a model card."""

import argparse
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``push`` command."""
    parser.description = (
        "Upload what inference needs of a run (weights, config, variogram and its plot, "
        "evaluation.json if present) and a generated model card to a model repository on "
        "the Hugging Face Hub; anyone then uses it as hf:OWNER/NAME wherever a run "
        "directory goes. Log in first with `hf auth login` (or set HF_TOKEN).")
    parser.add_argument("run", metavar="RUN", type=Path, help="a trained run folder")
    parser.add_argument("repo_id", metavar="OWNER/NAME",
                        help="model repository on the Hub, created if missing")
    parser.add_argument("--private", action="store_true",
                        help="create the repository private (an existing one keeps its "
                        "visibility)")
    parser.add_argument("--revision", default=None, metavar="BRANCH",
                        help="branch to push to, created from main if missing (default: main); "
                        "load it as hf:OWNER/NAME@BRANCH")
    parser.add_argument("--commit-message", default=None,
                        help="message of the commit (default: Upload geovario run <name>)")
    parser.add_argument("--dataset", action="append", default=None, metavar="ID",
                        help="Hub dataset the run was trained on, for the model card's "
                        "metadata (repeatable), e.g. osv5m/osv5m")
    parser.add_argument("--dry-run", action="store_true",
                        help="list what would be uploaded, with sizes, and send nothing "
                        "(needs no login)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Push (or with ``--dry-run`` list) and print where the run is and how to load it."""
    from geovario.hub.push import push_run, run_files

    datasets = tuple(args.dataset or ())
    ref = f"hf:{args.repo_id}" + (f"@{args.revision}" if args.revision else "")
    if args.dry_run:
        files = run_files(args.run, args.repo_id, revision=args.revision,
                          datasets=datasets)
        print(f"push: would upload {len(files)} files to {ref} (--dry-run: nothing sent)")
        width = max(map(len, files))
        for name, content in files.items():
            size = content.stat().st_size if isinstance(content, Path) else len(content)
            source = f"  {content}" if isinstance(content, Path) else "  (generated)"
            print(f"  {name:<{width}}  {human_size(size):>9}{source}")
        return 0
    commit = push_run(args.run, args.repo_id, private=args.private, revision=args.revision,
                      commit_message=args.commit_message, datasets=datasets)
    print(f"push: {args.run} -> {commit.commit_url}\n"
          f"push: load it with `geovario predict {ref} IMAGE...` or Predictor({ref!r})")
    return 0


def human_size(size: int) -> str:
    """``812 B``, ``3.4 kB``, ``1.2 MB``, ``2.0 GB`` (powers of 1000)."""
    value, unit = float(size), "B"
    for bigger in ("kB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
