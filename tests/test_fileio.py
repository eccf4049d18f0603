import pytest
import torch
from safetensors import safe_open

from geovario.fileio import TEMP_PREFIX, save_tensors_atomic


def test_saved_tensors_and_metadata_read_back_with_safetensors(tmp_path):
    path = tmp_path / "cache" / "gallery.safetensors"
    path.parent.mkdir()
    path.write_bytes(b"an older, different file")
    embeddings = torch.randn(1000, 8)
    rows = torch.arange(7)
    save_tensors_atomic({"embeddings": embeddings.T, "rows": rows}, path, {"key": "abc"})
    with safe_open(str(path), framework="pt") as handle:
        assert handle.metadata() == {"key": "abc"}
        assert torch.equal(handle.get_tensor("embeddings"), embeddings.T)
        assert torch.equal(handle.get_tensor("rows"), rows)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):  # metadata values must be strings
        save_tensors_atomic({"w": torch.ones(3)}, path, {"key": 1})
    assert path.read_bytes() == b"old"
    assert not list(tmp_path.glob(f"{TEMP_PREFIX}*"))
