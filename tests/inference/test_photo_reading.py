"""Photos are read as a viewer shows them: EXIF orientation applied, deep grey scaled, not clipped.

Each test also checks that the wrong reading (Pillow's plain ``Image.open`` and
``convert``, which ignore the orientation tag and clip 16-bit values at 255) would
have given other features, so a reader that skipped the correction would fail.
"""

import io

import numpy as np
import pytest
import torch
from PIL import ExifTags, Image
from tests.helpers.serve_testdata import photo

from geovario.data.images import decode_image, to_8bit
from geovario.inference.images import open_image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def features(predictor, item) -> torch.Tensor:
    """What the run's backbone sees for one image read by geovario."""
    return predictor.load_backbone().embed(predictor.prepare(item)[None])[0]


def plain_pillow_features(backbone, data: bytes) -> torch.Tensor:
    """The reading geovario used to do: Image.open, Pillow's own RGB conversion, the backbone."""
    plain = Image.open(io.BytesIO(data)).convert("RGB")
    return backbone.embed(backbone.preprocess(plain)[None])[0]


def far_apart(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool((a - b).norm() > 0.05 * b.norm())


def grey_gradient() -> np.ndarray:
    """An 8-bit grey picture with structure (values 7-247)."""
    y, x = np.mgrid[0:240, 0:320]
    return np.rint(127 + 120 * np.sin(x / 23) * np.cos(y / 31)).astype(np.uint8)


def same_guesses(a, b) -> bool:
    return [(g.latitude, g.longitude) for g in a] == [(g.latitude, g.longitude) for g in b] \
        and np.allclose([g.probability for g in a], [g.probability for g in b], atol=1e-6)


def test_a_16_bit_png_reads_like_its_8_bit_twin_not_like_white(image_predictor, image_backbone):
    eight = grey_gradient()
    sixteen = encode(Image.fromarray(eight.astype(np.uint16) * 257))  # x · 257: 8 → 16 bits
    assert Image.open(io.BytesIO(sixteen)).mode == "I;16"
    twin = encode(Image.fromarray(eight))
    white = encode(Image.new("L", (320, 240), 255))
    assert np.array_equal(np.asarray(decode_image(sixteen)), eight)
    torch.testing.assert_close(features(image_predictor, sixteen), features(image_predictor, twin),
                               rtol=0, atol=1e-6)
    # Read plainly, every 16-bit value is clipped to 255: the features of a white picture.
    clipped = plain_pillow_features(image_backbone, sixteen)
    torch.testing.assert_close(clipped, features(image_predictor, white), rtol=0, atol=1e-6)
    assert far_apart(clipped, features(image_predictor, twin))
    located = image_predictor.predict(sixteen, top_k=5)
    assert same_guesses(located, image_predictor.predict(twin, top_k=5))
    assert not same_guesses(located, image_predictor.predict(white, top_k=5))


@pytest.mark.parametrize("make", [
    lambda eight: Image.frombytes("I;16B", (320, 240), (eight.astype(">u2") * 257).tobytes()),
    lambda eight: Image.fromarray(eight.astype(np.int32) * 257),  # mode I, 16-bit values
    lambda eight: Image.fromarray(eight.astype(np.int32)),  # mode I, 8-bit values
    lambda eight: Image.fromarray((eight / 255).astype(np.float32)),  # mode F in [0, 1]
], ids=["I;16B", "I-16-bit", "I-8-bit", "F-unit"])
def test_every_deep_grey_mode_given_as_a_pil_image_reads_like_the_twin(image_predictor, make):
    eight = grey_gradient()
    image = make(eight)
    assert image.mode in ("I;16B", "I", "F")
    assert np.array_equal(np.asarray(open_image(image)), eight)
    assert same_guesses(image_predictor.predict(image), image_predictor.predict(
        Image.fromarray(eight)))


@pytest.mark.parametrize(("mode", "values", "expected"), [
    ("I;16", [0, 128, 129, 257, 65535], [0, 0, 1, 1, 255]),  # v / 257, rounded
    ("I", [0, 7, 255], [0, 7, 255]),  # already 8-bit values
    ("I", [0, 256, 65535], [0, 1, 255]),  # 16-bit values
    ("I", [-100, 0, 100], [0, 128, 255]),  # other ranges: minimum → 0, maximum → 255
    ("I", [0, 70000, 140000], [0, 128, 255]),
    ("F", [0.0, 0.5, 1.0], [0, 128, 255]),  # floats in [0, 1]: × 255
    ("F", [-5.0, 5.0, 15.0], [0, 128, 255]),  # other ranges stretched
    ("F", [np.nan, 0.5, 1.0], [0, 128, 255]),  # no data → 0
    ("F", [3.0, 3.0, 3.0], [0, 0, 0]),  # a constant outside [0, 1]
])
def test_the_bit_depth_rule_by_hand(mode, values, expected):
    dtype = {"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode]
    image = Image.fromarray(np.array([values], dtype=dtype))
    assert image.mode == mode
    out = to_8bit(image)
    assert out.mode == "L" and np.asarray(out).tolist() == [expected]


def test_other_modes_are_left_to_the_backbone():
    for image in (Image.new("RGB", (2, 2)), Image.new("CMYK", (2, 2)), Image.new("P", (2, 2)),
                  Image.new("RGBA", (2, 2)), Image.new("L", (2, 2)), Image.new("1", (2, 2))):
        assert to_8bit(image) is image


#: EXIF Orientation → how many quarter turns anticlockwise (np.rot90's k) the camera
#: stored the upright picture with. 6: the viewer turns the stored pixels 90° clockwise;
#: 8: 90° anticlockwise; 3: 180° (EXIF 2.32, tag 0x0112).
STORED_TURNS = {6: 1, 8: -1, 3: 2}


@pytest.mark.parametrize("orientation", sorted(STORED_TURNS))
def test_a_photo_stored_turned_reads_upright(image_predictor, image_backbone, orientation):
    upright = np.asarray(photo(seed=5))  # 320 x 240, landscape
    stored = np.ascontiguousarray(np.rot90(upright, k=STORED_TURNS[orientation]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = encode(Image.fromarray(stored), "PNG", exif=exif)
    twin = encode(Image.fromarray(upright))
    assert np.array_equal(np.asarray(decode_image(data)), upright)
    torch.testing.assert_close(features(image_predictor, data), features(image_predictor, twin),
                               rtol=0, atol=1e-6)
    assert far_apart(plain_pillow_features(image_backbone, data), features(image_predictor, twin))
    with Image.open(io.BytesIO(data)) as opened:  # a PIL image straight from Image.open
        assert same_guesses(image_predictor.predict(opened), image_predictor.predict(twin))
        assert opened.getexif()[ExifTags.Base.Orientation] == orientation  # left untouched


def test_a_sideways_phone_jpeg_reads_upright():
    upright = np.asarray(photo(seed=6)).astype(float)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)).astype(np.uint8)),
                  "JPEG", exif=exif, quality=95)
    read = np.asarray(decode_image(data)).astype(float)
    assert read.shape == upright.shape  # 240 rows, 320 columns, as shot
    jpeg_loss = np.abs(np.asarray(decode_image(encode(photo(seed=6), "JPEG", quality=95)))
                       - upright).mean()
    assert np.abs(read - upright).mean() < 1.5 * jpeg_loss  # no more than JPEG's own loss
    assert np.abs(read - upright[::-1, ::-1]).mean() > 4 * jpeg_loss  # and not turned 180°
    as_stored = np.asarray(Image.open(io.BytesIO(data))).astype(float)
    assert as_stored.shape == (320, 240, 3)


def test_a_damaged_exif_block_does_not_lose_the_photo():
    data = encode(photo(seed=7), "JPEG", exif=b"Exif\x00\x00garbage that is not a TIFF header")
    assert decode_image(data).size == (320, 240)


def test_extraction_reads_photos_the_same_way(image_predictor, tmp_path):
    """``geovario extract`` of a folder: the sideways and 16-bit files get their twins'
    features, as in ``predict``."""
    import pandas as pd

    from geovario.cli import main
    from geovario.store import open_store

    folder = tmp_path / "photos"
    folder.mkdir()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    upright = np.asarray(photo(seed=8))
    (folder / "upright.png").write_bytes(encode(Image.fromarray(upright)))
    (folder / "sideways.png").write_bytes(encode(Image.fromarray(
        np.ascontiguousarray(np.rot90(upright, 1))), exif=exif))
    eight = grey_gradient()
    (folder / "grey8.png").write_bytes(encode(Image.fromarray(eight)))
    (folder / "grey16.png").write_bytes(encode(Image.fromarray(eight.astype(np.uint16) * 257)))
    names = ["upright.png", "sideways.png", "grey8.png", "grey16.png"]
    pd.DataFrame({"path": names, "latitude": [1.0, 2.0, 3.0, 4.0],
                  "longitude": [5.0, 6.0, 7.0, 8.0]}).to_csv(folder / "photos.csv", index=False)
    assert main(["extract", "--dataset", "csv", "--root", str(folder), "--csv",
                 str(folder / "photos.csv"), "--backbone", "efficientnet-lite0", "--out",
                 str(tmp_path / "store"), "--device", "cpu", "--quiet"]) == 0
    store = open_store(tmp_path / "store")
    rows = {name: row for row, name in enumerate(store.ids)}
    stored = store.features(np.arange(len(store))).astype(np.float32)
    for copy, twin in (("sideways", "upright"), ("grey16", "grey8")):
        a, b = stored[rows[f"{copy}.png"]], stored[rows[f"{twin}.png"]]
        np.testing.assert_allclose(a, b, atol=2e-3 * np.abs(b).max())  # float16 store
        expected = features(image_predictor, folder / f"{twin}.png").numpy()
        np.testing.assert_allclose(a, expected, atol=2e-3 * np.abs(b).max())
