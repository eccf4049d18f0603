"""Where ``amp auto`` turns bfloat16 on, and what a bfloat16 gallery costs in accuracy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geovario import precision
from geovario.inference.gallery import cache_key, cached_gallery_embeddings, encode_gallery
from geovario.inference.gallery.sources import Gallery
from geovario.models import ModelConfig, build_model
from geovario.train.config import TrainConfig


@pytest.mark.parametrize(("flags", "native"), [({"avx512f", "avx512_bf16"}, True),
                                               ({"amx_bf16", "sse2"}, True),
                                               ({"avx512f", "avx2", "fma"}, False),
                                               (set(), False)])
def test_auto_means_bf16_only_where_the_cpu_has_it(monkeypatch, flags, native):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
    assert precision.native_bf16("cpu") is native
    assert precision.use_bf16("auto", "cpu") is native
    assert precision.use_bf16("bf16", "cpu") and not precision.use_bf16("off", "cpu")
    config = TrainConfig(train_store="unused")
    assert config.autocast_enabled("cpu") is native
    assert not precision.native_bf16("mps")


def test_cpu_flags_are_read_from_the_flags_line(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx512_bf16 sse\n")
    real_path = precision.Path
    monkeypatch.setattr(precision, "Path", lambda p: real_path(cpuinfo))
    precision.cpu_flags.cache_clear()
    try:
        assert precision.cpu_flags() == {"fpu", "avx512_bf16", "sse"}
    finally:
        precision.cpu_flags.cache_clear()


def test_unknown_amp_mode_is_refused():
    with pytest.raises(ValueError, match="amp must be one of auto, bf16, off, got 'fp8'"):
        precision.use_bf16("fp8", "cpu")


def test_bf16_gallery_is_close_to_float32_and_cached_apart(tmp_path):
    model = build_model(ModelConfig(feature_dim=64, seed=3)).eval()
    rng = np.random.default_rng(0)
    coords = np.column_stack([rng.uniform(-80, 80, 2000), rng.uniform(-180, 180, 2000)])
    gallery = Gallery(coords, "random")
    cpu = torch.device("cpu")
    exact = encode_gallery(model, gallery, cpu)
    low = encode_gallery(model, gallery, cpu, bf16=True)
    assert not torch.equal(exact, low)  # it really ran in bfloat16
    assert F.cosine_similarity(exact, low, dim=1).min() > 0.999
    # A bfloat16 cache file is never read for a float32 request, nor the other way round.
    key = cache_key(model.location_encoder, gallery)
    assert cache_key(model.location_encoder, gallery, bf16=True) != key
    cached_low = cached_gallery_embeddings(model, gallery, tmp_path, cpu, bf16=True)
    cached_exact = cached_gallery_embeddings(model, gallery, tmp_path, cpu)
    assert torch.equal(cached_low, low) and torch.equal(cached_exact, exact)
    assert len(list(tmp_path.glob("gallery-*.safetensors"))) == 2
