"""CLIP-family image towers through Hugging Face transformers (``clip:<hub id or path>``).

The default, ``openai/clip-vit-large-patch14``, is GeoCLIP's frozen backbone (768-d).
Any checkpoint whose ``AutoModel`` has ``get_image_features`` works the same way:
CLIP, StreetCLIP (a CLIP ViT-L/14), SigLIP. The embedding is the projected image
embedding before L2 normalisation, as GeoCLIP's image head expects.

Preprocessing is read from the checkpoint's image processor (resize, center crop,
rescale, mean/std, interpolation) and replayed per image by ``ImageTransform``, with
the same operations and rounding as the transformers 5.x torchvision backend. A
checkpoint whose processor uses the PIL backend resizes with PIL instead, which can
differ by a grey level at some pixels.

A hub id is downloaded by ``from_pretrained`` into the Hugging Face cache on first use
(saying so in one line); once complete in the cache it loads from there without asking
the Hub, so it also loads without network. Without network and without a cached copy,
pass a directory written by ``save_pretrained`` or ``hf download ... --local-dir``.
"""

import os
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import torch

from geovario.backbones.base import Backbone, register_backbone
from geovario.backbones.transform import ImageTransform
from geovario.errors import GeovarioError

DEFAULT_MODEL = "openai/clip-vit-large-patch14"
PREFIX = "clip:"


class BackboneUnavailable(GeovarioError):
    """A CLIP model that cannot be loaded from its folder, the cache or the Hub.

    Attributes:
        source: the hub id or folder.
        reason: why, in a few words.
    """

    def __init__(self, message: str, source: str, reason: str):
        super().__init__(message)
        self.source = source
        self.reason = reason


class HFImageTower(Backbone):
    """The image side of a CLIP-family model; ``model`` is the whole ``AutoModel``."""

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Projected, un-normalised image embeddings, (B, dim)."""
        return _as_tensor(self.model.get_image_features(pixel_values=pixels))


def _as_tensor(output: Any) -> torch.Tensor:
    """Return the embeddings: a tensor in transformers 4.x, ``pooler_output`` in 5.x."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


@register_backbone(PREFIX, spec="<hub id or path>")
def load_clip(spec: str | None, device: torch.device, dtype: torch.dtype) -> HFImageTower:
    """Load a CLIP-family checkpoint (hub id or local directory) as a frozen backbone.

    Raises:
        GeovarioError: "backbone: CLIP model directory ... does not exist";
            "backbone: cannot load CLIP model ..." (no network, no such repository,
            no config), with the way out; "backbone: CLIP model ... has no image
            embedding ..." for models without ``get_image_features``;
            "backbone: CLIP model ...: unsupported image processor ...".
    """
    source = _resolve_source(spec or DEFAULT_MODEL)
    processor, model = _from_pretrained(source)
    if not hasattr(model, "get_image_features"):
        raise GeovarioError(f"backbone: CLIP model {source!r} ({type(model).__name__}) has no "
                            "image embedding (get_image_features); use CLIP, SigLIP or StreetCLIP")
    config = model.config
    dim = getattr(config, "projection_dim", None) or config.vision_config.hidden_size
    transform = transform_from_processor(processor, source)
    weights = {"model": source, "model_type": config.model_type,
               "revision": getattr(config, "_commit_hash", None)}
    return HFImageTower(name=PREFIX + source, dim=dim, model=model, transform=transform,
                        weights=weights, device=device, dtype=dtype)


def _resolve_source(source: str) -> str:
    """An existing directory becomes an absolute path (so the name reloads anywhere)."""
    path = Path(source).expanduser()
    if path.exists():
        return str(path.resolve())
    looks_like_path = (path.is_absolute() or source.startswith((".", "~"))
                       or source.count("/") > 1 or os.sep != "/" and os.sep in source)
    if looks_like_path:
        raise BackboneUnavailable(f"backbone: CLIP model directory {source!r} does not exist",
                                  source, "no such folder")
    return source


def _from_pretrained(source: str) -> tuple[Any, Any]:
    """The image processor and model of a folder or hub id: cache first, then the Hub.

    Raises:
        BackboneUnavailable: "backbone: cannot load CLIP model ..." with the way out.
    """
    from huggingface_hub import constants, try_to_load_from_cache
    from transformers import AutoImageProcessor, AutoModel  # heavy import, only when used

    def load(local_only: bool) -> tuple[Any, Any]:
        return (AutoImageProcessor.from_pretrained(source, local_files_only=local_only),
                AutoModel.from_pretrained(source, local_files_only=local_only))

    def unavailable(reason: str) -> BackboneUnavailable:
        return BackboneUnavailable(
            f"backbone: cannot load CLIP model {source!r} ({reason}); pass a local directory "
            "written by save_pretrained, or allow network access to the Hugging Face Hub",
            source, reason)

    hub_id = not Path(source).is_dir()
    cached = hub_id and isinstance(try_to_load_from_cache(source, "config.json"), str)
    if cached:
        try:  # no request to the Hub: without network it would retry for minutes
            return load(local_only=True)
        except (OSError, ValueError):
            pass  # an incomplete download: let the Hub fill it in
    missing = "incomplete in the Hugging Face cache" if cached else \
        "not in the Hugging Face cache"
    if hub_id and constants.HF_HUB_OFFLINE:
        raise unavailable(f"{missing} and HF_HUB_OFFLINE is set")
    if hub_id and not _reachable(constants.ENDPOINT):
        raise unavailable(f"{missing}, and {urlsplit(constants.ENDPOINT).hostname} cannot be "
                          "reached")
    if hub_id:
        print(f"backbone: downloading {source} from the Hugging Face Hub into its cache "
              "(once)", file=sys.stderr)
    try:
        return load(local_only=False)
    except (OSError, ValueError) as error:
        text = str(error).strip()
        raise unavailable(text.splitlines()[0] if text else type(error).__name__) from error


def _reachable(endpoint: str, timeout_s: float = 5.0) -> bool:
    """Whether a TCP connection to the Hub opens.

    A quick answer where huggingface_hub would retry for about two minutes. Behind a
    proxy (``*_PROXY`` set) the library is trusted to find its way.
    """
    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                                             "http_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlsplit(endpoint)
    address = (url.hostname, url.port or (443 if url.scheme == "https" else 80))
    opened: list[bool] = []

    def connect() -> None:  # in a thread: the name lookup itself ignores socket timeouts
        try:
            socket.create_connection(address, timeout_s).close()
            opened.append(True)
        except OSError:
            pass

    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(timeout_s)
    return bool(opened)


def transform_from_processor(processor: Any, source: str) -> ImageTransform:
    """Replay a transformers image processor's settings as a per-image ``ImageTransform``.

    Raises:
        GeovarioError: "backbone: CLIP model ...: unsupported image processor size ..."
            for resize rules other than shortest edge or exact height/width.
    """
    from transformers.image_utils import PILImageResampling, pil_torch_interpolation_mapping

    resize = None
    if processor.do_resize:
        size = processor.size
        shortest, height, width = (_size_field(size, key)
                                   for key in ("shortest_edge", "height", "width"))
        if shortest and not _size_field(size, "longest_edge"):
            resize = int(shortest)
        elif height and width:
            resize = (int(height), int(width))
        else:
            raise GeovarioError(f"backbone: CLIP model {source!r}: unsupported image processor "
                                f"size {size} (need shortest_edge or height and width)")
    crop = None
    if getattr(processor, "do_center_crop", False):
        crop_size = processor.crop_size
        crop = (int(_size_field(crop_size, "height")), int(_size_field(crop_size, "width")))
    rescale = processor.rescale_factor if processor.do_rescale else 1.0
    mean, std = ((processor.image_mean, processor.image_std) if processor.do_normalize
                 else (0.0, 1.0))
    resample = PILImageResampling.BILINEAR if processor.resample is None else processor.resample
    return ImageTransform(resize=resize, crop=crop, mean=_triple(mean), std=_triple(std),
                          rescale=float(rescale),
                          interpolation=pil_torch_interpolation_mapping[resample].value)


def _triple(value: float | Sequence[float]) -> tuple[float, float, float]:
    """Per-channel values from a scalar or a sequence of three."""
    values = [value] * 3 if isinstance(value, int | float) else list(value)
    return tuple(float(v) for v in values)


def _size_field(size: Any, key: str) -> int | None:
    """Read a size key from a transformers 5.x ``SizeDict`` or a 4.x plain dict."""
    return size.get(key) if isinstance(size, dict) else getattr(size, key, None)
