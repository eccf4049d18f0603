"""A run on the real EfficientNet-Lite0 backbone (untrained, it only has to load) and photos."""

import io
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from geovario.checkpoint import save_weights
from geovario.models import GeoCLIP, ModelConfig
from geovario.rundir import WEIGHTS_NAME
from geovario.train import TrainConfig, write_run_config

CONFIG = ModelConfig(backbone="efficientnet-lite0", feature_dim=1280, init="scratch",
                     sigmas=(1.0, 16.0), hidden=64, frequencies=16)
GALLERY_SIZE = 300


def make_run(root: Path, config: ModelConfig = CONFIG) -> tuple[Path, Path]:
    """An untrained run (EfficientNet-Lite0 by default) and a CSV gallery of 300 points."""
    run = root / "run"
    run.mkdir(parents=True)
    torch.manual_seed(0)
    save_weights(run / WEIGHTS_NAME, GeoCLIP(config), config.to_dict())
    write_run_config(run, config, TrainConfig())
    rng = np.random.default_rng(0)
    gallery = root / "gallery.csv"
    pd.DataFrame({"latitude": np.degrees(np.arcsin(rng.uniform(-1, 1, GALLERY_SIZE))),
                  "longitude": rng.uniform(-180, 180, GALLERY_SIZE)}).to_csv(gallery,
                                                                             index=False)
    return run, gallery


def photo(seed: int = 0, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A smooth colour gradient with noise: decodes like a photo, differs per seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size[1], 0:size[0]] / max(size)
    base = np.stack([np.sin(x * rng.uniform(1, 6) + c) for c in rng.uniform(0, 3, 3)], -1)
    pixels = 127 + 100 * base + rng.normal(0, 10, base.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def photo_bytes(fmt: str = "JPEG", seed: int = 0, size: tuple[int, int] = (320, 240)) -> bytes:
    """``photo`` encoded as JPEG or PNG."""
    buffer = io.BytesIO()
    photo(seed, size).save(buffer, fmt)
    return buffer.getvalue()


SERVE = "import sys, geovario.cli as c; sys.exit(c.main(['serve', *sys.argv[1:]]))"


class ServerProcess:
    """``geovario serve`` in a child process on a free loopback port; stop() ends it."""

    def __init__(self, run: Path, *options: str, timeout_s: float = 120) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(run), "--port", "0", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # stdout: access log
        self.log: list[str] = []
        found: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(found,), daemon=True).start()
        try:
            self.url = found.get(timeout=timeout_s)
        except queue.Empty:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.log)) from None
        deadline = time.monotonic() + timeout_s
        while True:  # the socket is bound before the URL is printed; wait for uvicorn
            try:
                with urllib.request.urlopen(self.url + "health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("server did not answer:\n" + "".join(self.log)) from None
                time.sleep(0.2)

    def _read(self, found: queue.Queue) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r"open (http://\S+/)", line)
            if match:
                found.put(match.group(1))

    def stop(self) -> int:
        """Interrupt (as Ctrl-C does) and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
