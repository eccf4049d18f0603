"""GPS noise in metres, as GeoCLIP's augmentation: so the model cannot memorise exact points."""

from typing import TYPE_CHECKING

from geovario.geo.distance import EARTH_RADIUS_KM

if TYPE_CHECKING:
    import torch

EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0


def jitter_coords(coords_deg: "torch.Tensor", sigma_m: float,
                  generator: "torch.Generator | None" = None) -> "torch.Tensor":
    """Move each point by a Gaussian offset of ``sigma_m`` metres north and east.

    The offset (n, e) is walked along the great circle of bearing atan2(e, n) for
    √(n² + e²) metres (the spherical "destination point" formula), so the noise has the
    same size in metres at every latitude, the poles and the date line included.
    """
    import torch

    if sigma_m <= 0:
        return coords_deg
    offset = torch.randn(coords_deg.shape, generator=generator, dtype=torch.float64)
    offset = offset.to(coords_deg.device) * sigma_m
    delta = torch.linalg.vector_norm(offset, dim=-1) / EARTH_RADIUS_M
    bearing = torch.atan2(offset[..., 1], offset[..., 0])
    lat = torch.deg2rad(coords_deg[..., 0].double())
    lon = torch.deg2rad(coords_deg[..., 1].double())
    sin_lat2 = (torch.sin(lat) * torch.cos(delta)
                + torch.cos(lat) * torch.sin(delta) * torch.cos(bearing)).clamp(-1.0, 1.0)
    lat2 = torch.asin(sin_lat2)
    lon2 = lon + torch.atan2(torch.sin(bearing) * torch.sin(delta) * torch.cos(lat),
                             torch.cos(delta) - torch.sin(lat) * sin_lat2)
    lon2 = torch.remainder(torch.rad2deg(lon2) + 180, 360) - 180
    return torch.stack([torch.rad2deg(lat2), lon2], dim=-1).to(coords_deg.dtype)
