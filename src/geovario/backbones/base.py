"""The frozen-backbone interface and its registry.

A backbone turns images into fixed embeddings once, for the feature store; nothing
downstream trains it. ``preprocess`` runs per image in decoding threads (CPU,
picklable, no model); ``embed`` runs batches on ``device``.

Precision: ``dtype=None`` means float16 autocast on CUDA and float32 elsewhere.
float16/bfloat16 are autocast dtypes for CUDA only; asking for them on another
device raises a GeovarioError rather than silently computing something else.
"""

import abc
from collections.abc import Callable

import torch
from PIL import Image

from geovario.allocator import keep_freed_memory
from geovario.backbones.transform import ImageTransform
from geovario.errors import GeovarioError
from geovario.registry import Registry

Factory = Callable[[str | None, torch.device, torch.dtype], "Backbone"]

_HALF = (torch.float16, torch.bfloat16)
#: Backbone factories by name or prefix (``clip:`` takes a hub id or a folder).
BACKBONES: Registry[Factory] = Registry("backbone")


class Backbone(abc.ABC):
    """A frozen image encoder: PIL image → (3, H, W) tensor → (dim,) float32 embedding.

    Attributes:
        name: canonical name, loadable again by ``load_backbone``
            (e.g. ``"efficientnet-lite0"``, ``"clip:/models/clip-vit-large-patch14"``).
        dim: embedding dimension.
        preprocessing: JSON-able description of ``preprocess`` and the weights, for the
            feature store manifest.
        device: where ``embed`` runs the model.
        dtype: autocast dtype on CUDA (float32 means no autocast).
        transform: the picklable function behind ``preprocess``, without the model;
            hand it (rather than the backbone) to code that decodes images.
        model: the frozen ``torch.nn.Module``, in eval mode on ``device``.
    """

    #: Convolution networks run faster with channels-last (NHWC) tensors on CPU and GPU.
    channels_last: bool = False

    def __init__(self, *, name: str, dim: int, model: torch.nn.Module, transform: ImageTransform,
                 weights: dict, device: torch.device, dtype: torch.dtype) -> None:
        keep_freed_memory()  # activations are reused batch after batch, not faulted in anew
        self.name = name
        self.dim = dim
        self.transform = transform
        self.preprocessing = {**transform.describe(), **weights}
        self.device = device
        self.dtype = dtype
        self.model = model.eval().requires_grad_(False).to(device, memory_format=self._layout)

    @property
    def _layout(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """Turn one PIL image (any mode) into the (3, H, W) float32 CPU tensor ``embed`` takes."""
        return self.transform(image)

    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        """Embed a (B, 3, H, W) batch of preprocessed images as (B, dim) float32 on the CPU.

        The model runs under ``torch.inference_mode``; the result is an ordinary tensor
        (not an inference tensor), so callers may modify it in place.

        Raises:
            GeovarioError: "<name>: embed expects a (B, 3, H, W) batch, got shape ..." for
                anything else.
        """
        if batch.ndim != 4 or batch.shape[1] != 3:
            raise GeovarioError(f"{self.name}: embed expects a (B, 3, H, W) batch, "
                                f"got shape {tuple(batch.shape)}")
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=self.dtype,
                                                    enabled=self.dtype != torch.float32):
            features = self.forward(batch.to(self.device, torch.float32, non_blocking=True,
                                             memory_format=self._layout))
        return features.float().cpu().clone()

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Embed a (B, 3, H, W) uint8 batch from ``transform.pixels``, normalised on the device."""
        return self.embed(self.transform.normalize(pixels.to(self.device, non_blocking=True)))

    @abc.abstractmethod
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Return the (B, dim) embeddings of preprocessed pixels already on ``device``."""


def register_backbone(prefix: str, *, spec: str = "<spec>") -> Callable[[Factory], Factory]:
    """Register ``factory(spec, device, dtype) -> Backbone`` under a name or a prefix.

    A ``prefix`` ending in ``":"`` (e.g. ``"clip:"``) matches ``"clip:<spec>"`` and the
    bare ``"clip"`` (spec None, the factory's default); any other prefix is an exact name
    and its factory gets spec None.

    Args:
        prefix: the name, or the prefix before a spec.
        spec: how to write the spec in listings and errors, e.g. ``"<hub id or path>"``.
    """
    return BACKBONES.register(prefix, spec=spec)


def list_backbones() -> list[str]:
    """Names ``load_backbone`` accepts, a prefix shown with its spec (``clip:<hub id or path>``)."""
    return sorted(BACKBONES.names())


def load_backbone(name: str, device: str | torch.device = "cpu",
                  dtype: torch.dtype | str | None = None) -> Backbone:
    """Build the frozen backbone called ``name`` on ``device``.

    Args:
        name: a name from ``list_backbones()``, e.g. ``"efficientnet-lite0"`` or
            ``"clip:openai/clip-vit-large-patch14"``.
        device: torch device for ``embed``.
        dtype: autocast dtype (float32, float16, bfloat16, or their names); None picks
            float16 on CUDA and float32 elsewhere.

    Raises:
        GeovarioError: "unknown backbone ..." naming the choices;
            "backbone: unknown device ..."; "backbone: device ... but CUDA is not available";
            "backbone: unsupported dtype ..."; "backbone: dtype ... needs a CUDA device ...".
    """
    factory, spec = BACKBONES.lookup(name)
    torch_device = _resolve_device(device)
    return factory(spec, torch_device, _resolve_dtype(dtype, torch_device))


def _resolve_device(device: str | torch.device) -> torch.device:
    try:
        torch_device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise GeovarioError(f"backbone: unknown device {device!r}") from error
    if torch_device.type == "cuda" and not torch.cuda.is_available():
        raise GeovarioError(f"backbone: device {str(device)!r} requested but CUDA is not available")
    return torch_device


def _resolve_dtype(dtype: torch.dtype | str | None, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    resolved = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if resolved not in (torch.float32, *_HALF):
        raise GeovarioError(f"backbone: unsupported dtype {dtype!r} "
                            "(choose float32, float16 or bfloat16)")
    if resolved in _HALF and device.type != "cuda":
        raise GeovarioError(f"backbone: dtype {str(resolved).removeprefix('torch.')} needs a CUDA "
                            f"device, got {str(device)!r}; use float32 (or leave dtype unset)")
    return resolved
