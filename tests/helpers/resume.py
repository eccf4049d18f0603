"""Straight against resumed training: the two must end with bit-identical weights."""

import torch
from safetensors.torch import load_file
from tests.helpers.synthetic_testdata import small_config, small_model

from geovario.train import train


def weights(run) -> dict[str, torch.Tensor]:
    """The weights a run saved for inference."""
    return load_file(str(run / "model.safetensors"))


def assert_resume_after_an_epoch_is_exact(store, tmp_path, model=None, **settings) -> None:
    """Two epochs straight and one epoch + a resume end with bit-identical weights.

    The runs are ``tmp_path / "straight"`` and ``tmp_path / "split"``; ``settings`` go into
    :func:`small_config`, ``model`` (default :func:`small_model`) is the model config.
    """
    model = model or small_model()
    train(tmp_path / "straight", model, small_config(store, **settings), progress=False)
    train(tmp_path / "split", model, small_config(store, epochs=1, **settings),
          progress=False)
    train(tmp_path / "split", resume=True, epochs=2, progress=False)
    a, b = weights(tmp_path / "straight"), weights(tmp_path / "split")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
