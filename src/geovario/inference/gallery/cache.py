"""Gallery embeddings computed once per checkpoint and gallery, and cached on disk.

The cache key is a SHA-256 of the location encoder's weights and of the gallery's
coordinates, so a retrained model or another gallery never reads stale embeddings.
The file stores a checksum of its own embeddings; a damaged file is rebuilt.
"""

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open

from geovario.fileio import save_tensors_atomic
from geovario.inference.gallery.sources import Gallery
from geovario.progress import progress_bar


def cache_key(location_encoder: torch.nn.Module, gallery: Gallery, bf16: bool = False) -> str:
    """Hash of the encoder's weights, the gallery's coordinates and the precision (16 hex)."""
    digest = hashlib.sha256(b"bf16" if bf16 else b"")
    for name, tensor in sorted(location_encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(np.ascontiguousarray(gallery.coords, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def _checksum(tensor: torch.Tensor) -> str:
    # Hash the tensor's own buffer: ``tobytes()`` would copy 200 MB for the 100K gallery.
    return hashlib.sha256(memoryview(tensor.contiguous().numpy()).cast("B")).hexdigest()


@torch.no_grad()
def encode_gallery(model, gallery: Gallery, device: torch.device, batch_size: int = 8192,
                   progress: bool = False, bf16: bool = False) -> torch.Tensor:
    """Unit location embeddings of every gallery point, (G, E) float32 on the CPU.

    With ``bf16`` the MLPs run under bfloat16 autocast (the Fourier features stay float32):
    3-4x faster where the hardware has it, embeddings within a cosine of 1e-4 of float32's,
    which can swap the order of near-tied neighbours a few km apart.
    """
    coords = torch.from_numpy(gallery.coords.astype(np.float32))
    out = None  # filled batch by batch: no list of parts and concatenated copy of them
    with progress_bar(total=len(coords), enabled=progress, desc="gallery", unit="place",
                      unit_scale=True) as bar:
        for first in range(0, len(coords), batch_size):
            batch = coords[first:first + batch_size]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                part = model.encode_locations(batch.to(device)).float().cpu()
            if out is None:
                out = torch.empty(len(coords), part.shape[1])
            out[first:first + len(part)] = part
            bar.update(len(batch))
    return out


def cached_gallery_embeddings(model, gallery: Gallery, cache_dir: Path | None,
                              device: torch.device, progress: bool = False,
                              bf16: bool = False) -> torch.Tensor:
    """Embeddings from ``cache_dir`` when a valid file exists; otherwise computed and saved.

    With ``progress``, a first encoding says so in one line and shows a progress bar (the
    published 100K gallery takes half a minute to a minute on two CPU cores).
    """
    if cache_dir is None:
        if progress:
            print(f"gallery: encoding the {len(gallery):,}-place gallery {gallery.name} "
                  "(not cached)", file=sys.stderr)
        return encode_gallery(model, gallery, device, progress=progress, bf16=bf16)
    key = cache_key(model.location_encoder, gallery, bf16)
    path = Path(cache_dir) / f"gallery-{key}.safetensors"
    if path.exists():
        try:
            with safe_open(str(path), framework="pt") as handle:
                meta = handle.metadata() or {}
            embeddings = load_file(str(path))["embeddings"]
            if meta.get("key") == key and meta.get("sha256") == _checksum(embeddings):
                return embeddings
        except (SafetensorError, OSError, KeyError):
            pass
        print(f"gallery: cache file {path} is damaged; rebuilding it", file=sys.stderr)
    if progress:
        print(f"gallery: encoding the {len(gallery):,}-place gallery {gallery.name} once, "
              f"cached in {cache_dir}", file=sys.stderr)
    embeddings = encode_gallery(model, gallery, device, progress=progress, bf16=bf16)
    save_tensors_atomic({"embeddings": embeddings}, path,
                        {"key": key, "sha256": _checksum(embeddings), "gallery": gallery.name})
    return embeddings
