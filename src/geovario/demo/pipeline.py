"""``geovario demo``: every stage of the method on offline data, then a report.

Blue Marble benchmark → EfficientNet-Lite0 features → semivariogram → GeoCLIP (InfoNCE)
and the semivariogram variant, same seed and settings, location encoder warm-started
from the published GeoCLIP weights → evaluation against the published 100K gallery →
report. Every stage keeps its output in the demo folder and a rerun reuses it.
"""

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from geovario.ablation.run import train_and_evaluate
from geovario.demo.settings import FULL, QUICK, DemoSettings
from geovario.models import ModelConfig
from geovario.store import open_store
from geovario.train import TrainConfig
from geovario.variogram.fitted import FittedVariogram
from geovario.variogram.from_store import fit_store_variogram
from geovario.variogram.plot import plot_variogram

MODELS = {"infonce": ("infonce", {}), "semivariogram": ("semivariogram", {})}


@dataclass
class DemoResult:
    """Everything the report shows."""

    out: Path
    settings: DemoSettings
    variogram: FittedVariogram
    metrics: dict[str, dict]
    timings: dict[str, float] = field(default_factory=dict)


class Stopwatch:
    """Times named stages and prints where the demo is."""

    def __init__(self, progress: bool):
        self.timings: dict[str, float] = {}
        self.progress = progress

    def run(self, name: str, work):
        """Run ``work()`` as stage ``name`` and record its seconds."""
        if self.progress:
            print(f"demo: {name} ...", flush=True)
        start = time.perf_counter()
        result = work()
        self.timings[name] = time.perf_counter() - start
        return result


def run_demo(out: str | Path = "demo-out", *, quick: bool = False, device: str = "cpu",
             workers: int = 2, progress: bool = True) -> DemoResult:
    """Run (or finish, or just re-report) the demo in ``out``; returns what the report shows."""
    from geovario.demo.report import write_report

    settings = QUICK if quick else FULL
    out = Path(out)
    clock = Stopwatch(progress)
    data = clock.run("build the Blue Marble benchmark", lambda: build_data(out, settings,
                                                                           progress))
    stores = clock.run("extract EfficientNet-Lite0 features",
                       lambda: extract(data, out / "features", settings, device, workers,
                                       progress))
    variogram = clock.run("fit the semivariogram", lambda: fit_variogram_once(
        stores["train"], out, settings, progress))
    model_config = ModelConfig(backbone=open_store(stores["train"]).backbone,
                               feature_dim=open_store(stores["train"]).dim, init="geoclip",
                               seed=settings.seed)
    base = TrainConfig(train_store=str(stores["train"]), epochs=settings.epochs,
                       batch_size=settings.batch_size, queue_size=settings.queue_size,
                       seed=settings.seed, device=device, checkpoint_every=50)
    metrics = {}
    for name, (loss, options) in MODELS.items():
        if loss == "semivariogram":
            options = {**options, "variogram": str(out / "variogram.json")}
        config = replace(base, loss=loss, loss_options=options)
        metrics[name] = clock.run(f"train and evaluate {name}", lambda c=config, n=name:
                                  train_and_evaluate(out / "runs" / n, model_config, c,
                                                     test_store=stores["test"],
                                                     gallery=settings.gallery,
                                                     progress=progress))
    result = DemoResult(out, settings, variogram, metrics, clock.timings)
    clock.run("write the report", lambda: write_report(result, data))
    (out / "timings.json").write_text(json.dumps(clock.timings, indent=2))
    return result


def build_data(out: Path, settings: DemoSettings, progress: bool) -> Path:
    """The Blue Marble benchmark, built once."""
    from geovario.data.bluemarble import BuildConfig, build_bluemarble

    config = BuildConfig(train=settings.train_images, test=settings.test_images,
                         pixels=settings.pixels, seed=settings.seed)
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


def settings_dict(settings: DemoSettings) -> dict:
    """The settings as plain JSON."""
    return asdict(settings)
