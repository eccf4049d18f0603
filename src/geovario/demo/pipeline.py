"""``geovario demo``: every stage of the method on offline data, then a report.

Blue Marble benchmark → EfficientNet-Lite0 features → semivariogram → GeoCLIP (InfoNCE)
and the semivariogram variant, same seed and settings, location encoder warm-started
from the published GeoCLIP weights → evaluation against the published 100K gallery →
report. Every stage keeps its output in the demo folder and a rerun reuses it.
"""

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from geovario.allocator import release_freed_memory
from geovario.demo.settings import FULL, QUICK, DemoSettings
from geovario.demo.stages import StageTable, evaluate_run, example_top5, train_run
from geovario.fileio import write_json_atomic
from geovario.models import ModelConfig
from geovario.rundir import EVALUATION_NAME
from geovario.store import open_store
from geovario.train import TrainConfig
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.from_store import fit_store_variogram
from geovario.variogram.plot import plot_variogram

#: The demo's runs: name → (loss, its options).
RUNS = {"infonce": ("infonce", {}), "semivariogram": ("semivariogram", {})}
EXTRACTED = "extracted.txt"  # marks a finished extraction of both splits


@dataclass
class DemoResult:
    """Everything the report shows."""

    out: Path
    settings: DemoSettings
    variogram: FittedVariogram
    metrics: dict[str, dict]
    timings: dict[str, float] = field(default_factory=dict)
    reused: set[str] = field(default_factory=set)
    #: Each model's top-5 guesses for the report's example patches, when this run made them.
    examples: dict[str, tuple] = field(default_factory=dict)


class Stopwatch:
    """Times named stages and prints where the demo is.

    A rerun that reuses a stage reports the time the stage took when it did its work,
    marked as reused.
    """

    def __init__(self, path: Path, progress: bool):
        self.path, self.progress = path, progress
        self.previous = json.loads(path.read_text()) if path.exists() else {}
        self.timings: dict[str, float] = {}
        self.reused: set[str] = set()
        self.table = StageTable()

    def run(self, name: str, work, *, built: bool = False):
        """Run ``work()`` as stage ``name``; ``built`` says its output was already there.

        Freed memory goes back to the kernel as the stage starts and as it ends, so no
        stage's peak stacks on what the previous one, or the code between two stages (the
        report's examples, a dropped predictor), left free in the heap.
        """
        if self.progress:
            print(f"demo: {name}{' (reusing it)' if built else ''} ...", flush=True)
        start = time.perf_counter()
        with self.table.stage(name, reused=built):
            release_freed_memory()
            result = work()
            release_freed_memory()
        seconds = time.perf_counter() - start
        if built and name in self.previous:
            self.reused.add(name)
            seconds = self.previous[name]
        self.timings[name] = seconds
        return result

    def save(self) -> None:
        """Write the timings for the next run."""
        write_json_atomic(self.path, self.timings)


def run_demo(out: str | Path = "demo-out", *, quick: bool = False, layout: str = "interleaved",
             amp: str = "auto", device: str = "cpu", workers: int = 2,
             progress: bool = True) -> DemoResult:
    """Run (or finish, or just re-report) the demo in ``out``; returns what the report shows."""
    from geovario.demo.report import write_report

    settings = replace(QUICK if quick else FULL, layout=layout, amp=amp)
    out = Path(out)
    clock = Stopwatch(out / "timings.json", progress)
    data = clock.run("build the Blue Marble benchmark",
                     lambda: build_data(out, settings, progress),
                     built=(out / "bluemarble" / "bluemarble.json").exists())
    stores = clock.run("extract EfficientNet-Lite0 features",
                       lambda: extract(data, out / "features", settings, device, workers,
                                       progress),
                       built=(out / "features" / EXTRACTED).exists())
    variogram = clock.run("fit the semivariogram", lambda: fit_variogram_once(
        stores["train"], out, settings, progress), built=(out / "variogram.json").exists())
    model_config = ModelConfig(backbone=open_store(stores["train"]).backbone,
                               feature_dim=open_store(stores["train"]).dim,
                               seed=settings.seed)
    base = TrainConfig(train_store=str(stores["train"]), epochs=settings.epochs,
                       batch_size=settings.batch_size, queue_size=settings.queue_size,
                       lr=settings.lr,
                       seed=settings.seed, device=device, checkpoint_every=50,
                       amp=settings.amp)
    metrics, examples = {}, {}
    for name, (loss, options) in RUNS.items():
        config = replace(base, loss=loss, loss_options=options,
                         variogram=str(out / "variogram.json"))
        run_dir = out / "runs" / name
        done = (run_dir / EVALUATION_NAME).exists()
        clock.run(f"train {name}", lambda c=config, r=run_dir: train_run(
            r, model_config, c, progress=progress), built=done)
        predictor = clock.run(f"embed the 100K gallery for {name}", lambda r=run_dir, d=done:
                              None if d else _predictor(r, settings, device, progress),
                              built=done)
        metrics[name] = clock.run(f"evaluate {name}", lambda r=run_dir, p=predictor:
                                  evaluate_run(r, p, stores["test"], progress=progress),
                                  built=done)
        if predictor is not None:
            examples[name] = example_top5(predictor, stores["test"], settings.examples)
        del predictor  # its 100K gallery embeddings are not needed any more
    result = DemoResult(out, settings, variogram, metrics, clock.timings, clock.reused,
                        examples)
    clock.run("write the report", lambda: write_report(result, data))
    print(clock.table.format(), flush=True)
    clock.save()
    return result


def _predictor(run_dir: Path, settings: DemoSettings, device: str, progress: bool):
    from geovario.inference.predictor import Predictor

    predictor = Predictor(run_dir, gallery=settings.gallery, device=device, progress=progress,
                          gallery_amp=settings.amp)
    predictor.gallery_embeddings  # noqa: B018  (embedded here, so the stage table says so)
    return predictor


def build_data(out: Path, settings: DemoSettings, progress: bool) -> Path:
    """The Blue Marble benchmark, built once."""
    from geovario.data.bluemarble import BuildConfig, build_bluemarble

    config = BuildConfig(train=settings.train_images, test=settings.test_images,
                         pixels=settings.pixels, seed=settings.seed, split=settings.layout)
    return build_bluemarble(out / "bluemarble", config, progress=progress).out


def extract(data: Path, folder: Path, settings: DemoSettings, device: str, workers: int,
            progress: bool) -> dict[str, Path]:
    """Backbone features of both splits (extraction resumes and skips what is done)."""
    from geovario.backbones import load_backbone
    from geovario.data.osv5m import load_osv5m
    from geovario.extract import extract_features

    backbone = load_backbone(settings.backbone, device=device)
    stores = {}
    for split in ("train", "test"):
        stores[split] = folder / split
        report = extract_features(load_osv5m(data, split), backbone, stores[split],
                                  batch_size=32, workers=workers, progress=progress)
        if progress:
            print(report.summary())
    (folder / EXTRACTED).write_text("both splits extracted\n")
    return stores


def fit_variogram_once(train_store: Path, out: Path, settings: DemoSettings,
                       progress: bool) -> FittedVariogram:
    """The semivariogram of the training features and its plot."""
    path = out / "variogram.json"
    if path.exists():
        fitted = FittedVariogram.load(path)
    else:
        fitted = fit_store_variogram(open_store(train_store), sample=None, seed=settings.seed,
                                     progress=progress)
        fitted.save(path)
    plot_variogram(fitted, out / "variogram.png",
                   title="Semivariogram of EfficientNet-Lite0 features (Blue Marble)")
    return fitted
