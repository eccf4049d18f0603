"""The demo's two sizes: the full one and ``--quick`` (times in benchmarks/RESULTS.md)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoSettings:
    """How big each stage of the demo is."""

    train_images: int
    test_images: int
    pixels: int
    epochs: int
    batch_size: int
    queue_size: int
    #: The image head starts from scratch (1280-d features), so the demo's few hundred
    #: steps need a larger learning rate than GeoCLIP's 3e-5 for millions of images.
    lr: float = 3e-4
    backbone: str = "efficientnet-lite0"
    gallery: str = "geoclip"
    #: The Blue Marble layout: "interleaved" (OSV-5M-like: test towns near training ones,
    #: all over the world, so the 25 and 200 km accuracies are measurable) or "blocked"
    #: (unseen regions).
    layout: str = "interleaved"
    seed: int = 0
    examples: int = 4
    #: bfloat16 for training and the gallery where the hardware multiplies it natively
    #: (geovario.precision): 3-4x faster location-encoder MLPs, same verdicts (RESULTS.md).
    amp: str = "auto"


FULL = DemoSettings(train_images=5000, test_images=1000, pixels=64, epochs=6,
                    batch_size=256, queue_size=1024)
QUICK = DemoSettings(train_images=400, test_images=100, pixels=32, epochs=2,
                     batch_size=64, queue_size=256)
