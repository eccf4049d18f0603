"""GPS noise in metres, as GeoCLIP's augmentation: so the model cannot memorise exact points."""

from typing import TYPE_CHECKING

from geovario.geo.destination import from_plane, plane_basis

if TYPE_CHECKING:
    import torch


def jitter_coords(coords_deg: "torch.Tensor", sigma_m: float,
                  generator: "torch.Generator | None" = None) -> "torch.Tensor":
    """Move each point by a Gaussian offset of ``sigma_m`` metres north and east.

    The offset is walked along the great circle (the destination-point formula), so the
    noise has the same size in metres at every latitude, the poles and the date line
    included. Computed in float64 on the input's device.
    """
    import torch

    if sigma_m <= 0:
        return coords_deg
    offset = torch.randn(coords_deg.shape, generator=generator, dtype=torch.float64)
    offset_km = offset.to(coords_deg.device) * (sigma_m / 1000.0)
    basis = plane_basis(offset_km[..., 1], offset_km[..., 0])
    lat, lon = from_plane(torch.deg2rad(coords_deg[..., 0].double()),
                          torch.deg2rad(coords_deg[..., 1].double()), basis)
    lon = torch.remainder(torch.rad2deg(lon) + 180, 360) - 180
    return torch.stack([torch.rad2deg(lat), lon], dim=-1).to(coords_deg.dtype)
