"""GPS noise in metres, as GeoCLIP's augmentation: so the model cannot memorise exact points."""

import torch

from geovario.geo.distance import EARTH_RADIUS_KM

EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000.0


def jitter_coords(coords_deg: torch.Tensor, sigma_m: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each point by Gaussian noise of ``sigma_m`` metres along north and along east.

    Offsets are turned into degrees at each point's own latitude (a metre of longitude
    is wider at the equator than near a pole); points pushed over a pole come back down
    on the other side of it, and longitudes wrap into [-180, 180).
    """
    if sigma_m <= 0:
        return coords_deg
    noise = torch.randn(coords_deg.shape, generator=generator, dtype=torch.float64)
    noise = noise.to(coords_deg.device) * sigma_m
    lat = coords_deg[..., 0].double()
    lon = coords_deg[..., 1].double()
    cos_lat = torch.cos(torch.deg2rad(lat)).clamp(min=1e-9)
    lat = lat + torch.rad2deg(noise[..., 0] / EARTH_RADIUS_M)
    lon = lon + torch.rad2deg(noise[..., 1] / (EARTH_RADIUS_M * cos_lat))
    over = lat.abs() > 90
    lat = torch.where(over, torch.sign(lat) * 180 - lat, lat)
    lon = torch.where(over, lon + 180, lon)
    lon = torch.remainder(lon + 180, 360) - 180
    return torch.stack([lat, lon], dim=-1).to(coords_deg.dtype)
