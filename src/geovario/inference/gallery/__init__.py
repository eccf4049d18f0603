"""The gallery of candidate locations: sources, cached embeddings, top-k retrieval."""

from geovario.inference.gallery.cache import cache_key, cached_gallery_embeddings, encode_gallery
from geovario.inference.gallery.retrieval import TopK, top_k, weighted_mean_on_sphere
from geovario.inference.gallery.sources import GALLERIES, Gallery, list_galleries, load_gallery

__all__ = [
    "GALLERIES",
    "Gallery",
    "TopK",
    "cache_key",
    "cached_gallery_embeddings",
    "encode_gallery",
    "list_galleries",
    "load_gallery",
    "top_k",
    "weighted_mean_on_sphere",
]
