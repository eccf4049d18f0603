"""The demo's two sizes: the full one (about 10 minutes on 2 cores) and ``--quick``."""

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
    backbone: str = "efficientnet-lite0"
    gallery: str = "geoclip"
    seed: int = 0
    examples: int = 4


FULL = DemoSettings(train_images=5000, test_images=1000, pixels=64, epochs=3,
                    batch_size=256, queue_size=4096)
QUICK = DemoSettings(train_images=400, test_images=100, pixels=32, epochs=2,
                     batch_size=64, queue_size=256)
