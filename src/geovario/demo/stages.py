"""The demo's run stages (train, embed the gallery, evaluate) and its table of stages.

Training, the gallery and the evaluation are separate stages so the demo's log says
where its time goes; each also keeps its output in the run folder, so a rerun reuses it.
"""

import json
import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geovario.fileio import finite_or_none, write_json_atomic
from geovario.rundir import CONFIG_NAME, EVALUATION_NAME, PREDICTIONS_NAME


def train_run(run_dir: Path, model_config, config, *, progress: bool) -> None:
    """Train the run, or finish it when an earlier demo was interrupted."""
    from geovario.train import train

    if (run_dir / CONFIG_NAME).exists():
        train(run_dir, resume=True, progress=progress)
    else:
        train(run_dir, model_config, config, progress=progress)


def evaluate_run(run_dir: Path, predictor, test_store: Path, *, progress: bool) -> dict:
    """The run's metrics on the test store, cached in its ``evaluation.json``."""
    done = run_dir / EVALUATION_NAME
    if done.exists():
        return json.loads(done.read_text())
    from geovario.inference.evaluate import evaluate

    metrics = evaluate(predictor, test_store, predictions_csv=run_dir / PREDICTIONS_NAME,
                       progress=progress)
    write_json_atomic(done, {k: finite_or_none(v) for k, v in metrics.items()})
    return metrics


def example_rows(count: int, rows: int) -> np.ndarray:
    """The test rows the report shows: ``count`` spread evenly over the store."""
    return np.linspace(0, rows - 1, min(count, rows)).astype(int)


def example_top5(predictor, test_store: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-5 coordinates and probabilities of the report's example patches."""
    from geovario.store import open_store

    store = open_store(test_store)
    out = predictor.predict_features(store.features(example_rows(count, len(store))), k=5)
    return out.topk_coords, out.topk_probs


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> float:
    """This process's largest resident set so far, MB (Linux: VmHWM)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class StageRow:
    """One stage: wall and CPU seconds (workers included), peak memory after it."""

    name: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    reused: bool


class StageTable:
    """Wall time, CPU time and peak memory of each stage, printed at the end of the demo."""

    def __init__(self) -> None:
        self.rows: list[StageRow] = []

    @contextmanager
    def stage(self, name: str, reused: bool = False):
        """Measure the body as stage ``name``."""
        wall, cpu = time.perf_counter(), _cpu_seconds()
        yield
        self.rows.append(StageRow(name, time.perf_counter() - wall, _cpu_seconds() - cpu,
                                  peak_rss_mb(), reused))

    def format(self) -> str:
        """The table as text, with a total line."""
        width = max([len(r.name) for r in self.rows] + [5])
        lines = [f"demo: {'stage':<{width}}  {'wall s':>7}  {'CPU s':>7}  {'peak MB':>7}"]
        for r in self.rows:
            note = "  (reused)" if r.reused else ""
            lines.append(f"demo: {r.name:<{width}}  {r.seconds:7.1f}  {r.cpu_seconds:7.1f}  "
                         f"{r.peak_mb:7.0f}{note}")
        lines.append(f"demo: {'total':<{width}}  {sum(r.seconds for r in self.rows):7.1f}  "
                     f"{sum(r.cpu_seconds for r in self.rows):7.1f}  "
                     f"{max([r.peak_mb for r in self.rows] + [0]):7.0f}")
        return "\n".join(lines)
