"""Locate photos (or backbone features) with a trained run, a Hub run or the published GeoCLIP.

A :class:`Predictor` loads a run's weights once (a folder, ``hf:OWNER/NAME[@REVISION]``,
or the built-in ``geoclip``; see :mod:`geovario.inference.runs`), embeds its gallery
once (cached on disk) and loads the run's backbone on the first photo; then it answers
any number of requests with one backbone pass and one matrix product per batch::

    predictor = Predictor("geoclip")
    for guess in predictor.predict("photo.jpg", top_k=5):
        print(guess.latitude, guess.longitude, guess.probability, guess.place)
"""

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from geovario.allocator import keep_freed_memory
from geovario.distributed import resolve_device
from geovario.errors import GeovarioError
from geovario.inference.gallery import cached_gallery_embeddings, load_gallery, top_k
from geovario.inference.gallery.retrieval import weighted_mean_on_sphere
from geovario.inference.images import (
    BadImageError,
    Guess,
    ImageInput,
    describe,
    is_image_input,
    place_names,
    prepare_image,
)
from geovario.inference.runs import load_run
from geovario.precision import use_bf16


@dataclass(frozen=True)
class Prediction:
    """Point predictions (N, 2) and the top-k candidates (N, k, 2) with probabilities (N, k)."""

    coords: np.ndarray
    topk_coords: np.ndarray
    topk_probs: np.ndarray


class Predictor:
    """A run, ready to locate photos or backbone features.

    Args:
        run: a run folder, ``hf:OWNER/NAME[@REVISION]`` on the Hugging Face Hub, or
            ``"geoclip"``, the published GeoCLIP.
        device: ``auto`` (a GPU when there is one), ``cpu``, ``cuda``, ``cuda:1``...
        gallery: candidate locations: ``geoclip`` (the published 100K), ``store:DIR`` or a
            CSV of latitude/longitude.
        backbone: embed photos with this backbone instead of the one the run names, e.g.
            ``clip:/models/clip-vit-large-patch14``, a local copy of the same model.
        cache: keep the embedded gallery on disk (in the run folder, or under
            ``~/.cache/geovario`` for Hub and built-in runs).
        progress: show a progress bar while the gallery is embedded.
        gallery_amp: ``off`` (float32, the default: evaluation is exact), ``bf16``, or
            ``auto`` (bfloat16 where the hardware multiplies it natively): the gallery
            embedded 3-4x faster, near-tied neighbours a few km apart may swap.
        tta: ``"tencrop"``: locate each photo from ten crops with their logits averaged
            (GeoCLIP's test protocol; ten backbone passes per photo). Features given to
            :meth:`predict_features` carry their own views.
    """

    def __init__(self, run: str | Path, device: str = "auto", gallery: str = "geoclip", *,
                 backbone: str | None = None, cache: bool = True, progress: bool = True,
                 gallery_amp: str = "off",
                 tta: str | None = None):
        keep_freed_memory()  # gallery and query batches reuse memory instead of faulting it in
        self.run = load_run(run, cache)
        self.model_config = self.run.config
        self.device = torch.device(resolve_device(device))
        self.model = self.run.model.to(self.device).requires_grad_(False)
        self.gallery = load_gallery(gallery)
        self.scale = float(self.model.logit_scale.exp())
        self.backbone_override = backbone
        self.progress = progress
        self.gallery_bf16 = use_bf16(gallery_amp, self.device.type)
        self.tta = tta
        if tta is not None:
            from geovario.backbones.views import TTA_VIEWS

            if tta not in TTA_VIEWS:
                raise GeovarioError(f"unknown test-time augmentation {tta!r} (choose from "
                                    f"{', '.join(TTA_VIEWS)})")
        self._backbone = None

    @property
    def backbone(self) -> str:
        """The name of the backbone whose features the run locates."""
        return self.backbone_override or self.model_config.backbone

    @functools.cached_property
    def gallery_embeddings(self) -> torch.Tensor:
        """Unit embeddings of every gallery location, computed (or read from cache) once."""
        return cached_gallery_embeddings(self.model, self.gallery, self.run.gallery_cache,
                                         self.device, self.progress,
                                         self.gallery_bf16).to(self.device)

    def preload(self) -> None:
        """Load the backbone and embed the gallery now rather than at the first photo.

        The backbone comes first: a missing model fails before the gallery's half minute.
        """
        self.load_backbone()
        self.gallery_embeddings  # noqa: B018  (a cached property: computed here, once)

    def check_backbone(self, backbone: str, source: str) -> None:
        """Refuse features from another backbone than the run's.

        Raises:
            GeovarioError: "<source>: features come from backbone X, the run was trained on Y".
        """
        if backbone != self.backbone:
            raise GeovarioError(f"{source}: features come from backbone {backbone!r}, the run "
                                f"was trained on {self.backbone!r}")

    def load_backbone(self):
        """The backbone that embeds photos for this run, loaded once, on the run's device.

        With ``tta``, the backbone that embeds each photo's views side by side.

        Raises:
            GeovarioError: "<run>: cannot load its backbone ... pass --backbone clip:DIR"
                when a Hub model is neither cached nor downloadable; "unknown backbone ..."
                for a run on a backbone that cannot be loaded by name; "<run>: backbone X
                gives D-d features, the run expects E" when it does not fit the run.
        """
        if self._backbone is not None:
            return self._backbone
        from geovario.backbones import load_backbone
        from geovario.backbones.clip import BackboneUnavailable

        try:
            backbone = load_backbone(self.backbone, device=self.device)
        except BackboneUnavailable as error:
            if self.backbone_override:
                raise
            raise GeovarioError(
                f"{self.run.ref}: cannot load its backbone {error.source} ({error.reason}); "
                f"where there is network, run `hf download {error.source} config.json "
                "preprocessor_config.json model.safetensors --local-dir DIR`, then pass "
                "--backbone clip:DIR (Python: Predictor(..., backbone='clip:DIR'))") from None
        expected = self.model_config.feature_dim
        if backbone.dim != expected:
            raise GeovarioError(f"{self.run.ref}: backbone {backbone.name!r} gives "
                                f"{backbone.dim}-d features, the run expects {expected}")
        if self.tta is not None:
            from geovario.backbones.views import with_views

            backbone = with_views(backbone, self.tta)
        self._backbone = backbone
        return backbone

    @torch.no_grad()
    def predict_features(self, features, k: int = 1, refine: int | None = None,
                         batch_size: int = 4096) -> Prediction:
        """Locate (N, D) backbone features, or (N, V, D): V test-time views of each image.

        With views, each view goes through the image head on its own and the logits of
        the V views are averaged (GeoCLIP's TenCrop protocol), then the softmax over the
        gallery is taken. The logits are linear in the unit image embedding, so that
        average is the logit of the mean of the views' unit embeddings, which is what
        goes to retrieval (not the mean of the backbone features, which the nonlinear
        head would map elsewhere, nor a re-normalised mean, which would sharpen the
        softmax).

        Args:
            k: number of candidates returned per image.
            refine: if given, the point prediction is the probability-weighted mean on the
                sphere of the ``refine`` best candidates instead of the best one.
        """
        if k < 1 or (refine is not None and refine < 1):
            raise GeovarioError(f"predict: top-k and refine must be >= 1, got {k}, {refine}")
        self._check_k(max(k, refine or 1))
        features = torch.as_tensor(np.asarray(features, dtype=np.float32))
        if features.ndim not in (2, 3) or features.shape[-1] != self.model_config.feature_dim:
            raise GeovarioError(f"predict: features of shape {tuple(features.shape)}, the run "
                                f"expects (N, {self.model_config.feature_dim}) or (N, views, "
                                f"{self.model_config.feature_dim})")
        flat = features.reshape(-1, features.shape[-1])
        images = torch.cat([self.model.encode_images(flat[i:i + batch_size].to(self.device))
                            for i in range(0, len(flat), batch_size)])
        if features.ndim == 3:  # the mean of unit embeddings: the mean of the views' logits
            images = images.reshape(*features.shape[:2], -1).mean(dim=1)
        best = top_k(images, self.gallery_embeddings, self.scale, max(k, refine or 1))
        candidates = self.gallery.coords[best.indices]
        point = candidates[:, 0] if not refine else weighted_mean_on_sphere(
            candidates[:, :refine], best.probs[:, :refine])
        return Prediction(point, candidates[:, :k], best.probs[:, :k])

    def _check_k(self, k: int) -> None:
        if k > len(self.gallery):
            raise GeovarioError(f"predict: top-k {k} exceeds the {len(self.gallery)} "
                                f"locations of gallery {self.gallery.name}")

    def prepare(self, image: ImageInput) -> torch.Tensor:
        """Read one image (path, bytes or PIL image) into the backbone's (3, H, W) input.

        Needs no lock: only decoding and preprocessing, no model.

        Raises:
            BadImageError: why this image cannot be used.
        """
        return prepare_image(image, self.load_backbone())

    def locate(self, pixels: torch.Tensor, top_k: int) -> list[list[Guess]]:
        """Top-k guesses for a (B, 3, H, W) batch from :meth:`prepare`, best first.

        With ``tta`` the batch is (B, views, 3, H, W) and the views' logits are averaged.
        """
        features = self.load_backbone().embed(pixels).numpy()
        if self.tta is not None:
            features = features.reshape(len(pixels), -1, self.model_config.feature_dim)
        out = self.predict_features(features, k=top_k)
        names = iter(place_names(out.topk_coords.reshape(-1, 2)))
        return [[Guess(float(lat), float(lon), float(p), next(names))
                 for (lat, lon), p in zip(coords, probs, strict=True)]
                for coords, probs in zip(out.topk_coords, out.topk_probs, strict=True)]

    def predict(self, images: ImageInput | list[ImageInput], top_k: int = 5,
                batch_size: int = 16) -> list[Guess] | list[list[Guess]]:
        """Where were these photos taken? The ``top_k`` most probable places, best first.

        Args:
            images: a path, encoded bytes (a JPEG, a PNG...) or a ``PIL.Image``, or a list
                of them. EXIF orientation is applied and 16-bit images are scaled, as a
                viewer shows them.
            top_k: guesses per photo.
            batch_size: photos embedded at once.

        Returns:
            For one image, a list of :class:`Guess` (``latitude``, ``longitude``,
            ``probability``, ``place``); for a list, one such list per image.

        Raises:
            GeovarioError: "<image>: <why it cannot be used>" at the first bad image, or
                for a top_k out of range.
        """
        single = is_image_input(images)
        items = [images] if single else list(images)
        for i, item in enumerate(items):
            if not is_image_input(item):
                hint = (" (for backbone features use predict_features)"
                        if isinstance(item, np.ndarray | torch.Tensor) else "")
                raise GeovarioError(f"predict: image {i} is a {type(item).__name__}; give a "
                                    f"path, bytes or a PIL image{hint}")
        if top_k < 1 or batch_size < 1:
            raise GeovarioError(f"predict: top_k and batch_size must be >= 1, got {top_k} "
                                f"and {batch_size}")
        self._check_k(top_k)
        guesses: list[list[Guess]] = []
        for start in range(0, len(items), batch_size):
            pixels = []
            for i, item in enumerate(items[start:start + batch_size], start):
                try:
                    pixels.append(self.prepare(item))
                except BadImageError as error:
                    raise GeovarioError(f"{describe(item, i)}: {error}") from None
            guesses += self.locate(torch.stack(pixels), top_k)
        return guesses[0] if single else guesses
