"""Bilinear sampling of a global equirectangular raster in local tangent planes.

A patch of ``patch_km`` × ``patch_km`` around a centre is read in the azimuthal
equidistant plane of that centre (the output pixel at (east, north) km lies
hypot(east, north) km away along azimuth atan2(east, north)), so high latitudes are not
stretched; longitudes wrap around and rows clamp at the poles.
"""

import numpy as np

from geovario.errors import GeovarioError
from geovario.geo import validate_coords
from geovario.geo.destination import from_plane, plane_basis


class EquirectangularImage:
    """A global equirectangular raster (H, W, C), padded once for fast bilinear sampling.

    One column is copied from the opposite edge on each side (longitude wrap-around) and
    the first and last rows are repeated (clamped at the poles), so the four neighbours
    of any sample are plain flat indices. Pixel (i, j) is centred on latitude
    90 - (i + 0.5)·180/H and longitude -180 + (j + 0.5)·360/W.
    """

    def __init__(self, image: np.ndarray):
        """Pad ``image``; uint8 patches come back as uint8, anything else as float32."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[0] < 2 or image.shape[1] < 2:
            raise GeovarioError(f"EquirectangularImage: expected an (H, W, C) image with H, W "
                                f">= 2, got shape {image.shape}")
        self.height, self.width, self.channels = image.shape
        self.dtype = image.dtype
        padded = np.concatenate([image[:, -1:], image, image[:, :1]], axis=1)
        padded = np.concatenate([padded[:1], padded, padded[-1:]], axis=0)
        self._flat = np.ascontiguousarray(padded).reshape(-1, self.channels)

    def patches(self, centers_deg, patch_km: float, pixels: int) -> np.ndarray:
        """(B, pixels, pixels, C) patches of patch_km x patch_km around each centre.

        Row 0 is the northern edge and column 0 the western edge; output pixels sample the
        ground at their centres, (k + 0.5)·patch_km/pixels - patch_km/2 km from the centre.

        Raises:
            GeovarioError: "EquirectangularImage.patches: centers: ..." for bad coordinates,
                "EquirectangularImage.patches: ..." for a footprint or size that is not > 0.
        """
        centers = validate_coords(centers_deg, source="EquirectangularImage.patches: centers")
        if not patch_km > 0 or pixels < 1:
            raise GeovarioError(f"EquirectangularImage.patches: need patch_km > 0 and pixels "
                                f">= 1, got patch_km={patch_km}, pixels={pixels}")
        grid = (np.arange(pixels) + 0.5) * (patch_km / pixels) - patch_km / 2
        east, north = np.meshgrid(grid, -grid)
        basis = [b.ravel().astype(np.float32) for b in plane_basis(east, north)]
        lat0 = np.radians(centers[:, :1]).astype(np.float32)
        lon0 = np.radians(centers[:, 1:]).astype(np.float32)
        lat, lon = from_plane(lat0, lon0, basis)
        # Padded pixel coordinates: image column j (centre at x = j + 0.5) is padded column j + 1.
        x = np.mod(lon * np.float32(self.width / (2 * np.pi)) + np.float32(self.width / 2),
                   np.float32(self.width)) + np.float32(0.5)
        y = (np.float32(np.pi / 2) - lat) * np.float32(self.height / np.pi) + np.float32(0.5)
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = (x - x0)[..., None], (y - y0)[..., None]
        stride = self.width + 2
        top_left = y0.astype(np.intp) * stride + x0.astype(np.intp)
        p00, p01, p10, p11 = (self._flat[top_left + offset].astype(np.float32)
                              for offset in (0, 1, stride, stride + 1))
        top = p00 + fx * (p01 - p00)
        out = top + fy * (p10 + fx * (p11 - p10) - top)
        out = out.reshape(len(centers), pixels, pixels, self.channels)
        if self.dtype == np.uint8:
            return np.clip(np.rint(out), 0, 255).astype(np.uint8)
        return out
