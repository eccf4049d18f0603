"""``extract --tta tencrop``: one store row per image, its ten views' embeddings side by side."""

import numpy as np
import pandas as pd
import torch
from PIL import Image
from tests.helpers.views_testdata import CropBackbone
from torchvision.transforms import TenCrop
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as tvF

from geovario.backbones.views import with_views
from geovario.data.csvfolder import load_csv_folder
from geovario.extract import extract_features
from geovario.store import open_store


def test_tencrop_extraction_stores_every_views_embedding(tmp_path):
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (11 + k, 9, 3), np.uint8)) for k in range(5)]
    for k, image in enumerate(images):
        image.save(tmp_path / f"{k}.png")
    pd.DataFrame({"path": [f"{k}.png" for k in range(5)], "latitude": np.linspace(-40, 40, 5),
                  "longitude": np.linspace(10, 50, 5)}).to_csv(tmp_path / "p.csv", index=False)
    inner = CropBackbone()
    report = extract_features(load_csv_folder(tmp_path, tmp_path / "p.csv"),
                              with_views(inner, "tencrop"), tmp_path / "store", batch_size=2,
                              workers=0, progress=False)
    assert report.embedded == 5
    store = open_store(tmp_path / "store")
    assert (store.backbone, store.dim, store.views) == ("crop-linear", 50, 10)
    assert store.preprocessing["test_time_augmentation"] == "tencrop"
    features = store.load_features(np.float32).reshape(5, 10, 5)
    for k, image in enumerate(images):
        pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1)
        resized = tvF.resize(pixels, [6, 6], interpolation=InterpolationMode.BILINEAR,
                             antialias=True)
        views = torch.stack(TenCrop(4)(resized))
        want = inner.embed_pixels(views).numpy()
        np.testing.assert_allclose(features[k], want, rtol=2e-3, atol=1e-2)
