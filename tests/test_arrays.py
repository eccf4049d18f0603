"""One numpy/torch convention: functions work in the namespace of the arrays they get."""

import numpy as np
import pytest
import torch

from geovario.arrays import array_namespace, astype, to_numpy
from geovario.geo.destination import from_plane, plane_basis
from geovario.geo.distance import chord_to_km, km_to_chord, unit_vectors
from geovario.variogram import Structure
from geovario.variogram.structures import nested_gamma


def test_the_namespace_is_torch_if_any_input_is_a_tensor():
    assert array_namespace(np.ones(3)) is np
    assert array_namespace([1.0, 2.0], 3.0) is np
    assert array_namespace(np.ones(3), torch.ones(3)) is torch
    assert array_namespace(torch.ones(3, dtype=torch.float16)) is torch


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32"), torch.float32])
def test_astype_takes_a_name_a_numpy_or_a_torch_dtype(dtype):
    x = astype(np.arange(3.0), dtype)
    assert x.dtype == np.float32 and isinstance(x, np.ndarray)
    t = astype(torch.arange(3.0, dtype=torch.float64), dtype)
    assert t.dtype == torch.float32 and isinstance(t, torch.Tensor)
    np.testing.assert_array_equal(to_numpy(t), x)


def test_to_numpy_detaches_a_tensor_that_needs_grad():
    t = torch.ones(2, requires_grad=True) * 2
    assert isinstance(to_numpy(t), np.ndarray) and to_numpy(t).tolist() == [2.0, 2.0]


def same(got, expected):
    """Equal up to the last bit or two: torch and numpy each call their own sin and cos."""
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)


def test_geo_functions_give_the_same_numbers_in_both_namespaces(sphere_points):
    coords = sphere_points(200, 11)
    u = unit_vectors(coords)
    u_t = unit_vectors(torch.from_numpy(coords))
    assert isinstance(u_t, torch.Tensor) and u_t.dtype == torch.float64
    same(u_t.numpy(), u)
    chords = np.linalg.norm(u[:100] - u[100:], axis=1)
    same(chord_to_km(torch.from_numpy(chords)).numpy(),
                                  chord_to_km(chords))
    km32 = chord_to_km(torch.from_numpy(chords), torch.float32)
    assert km32.dtype == torch.float32 and chord_to_km(chords, "float32").dtype == np.float32
    np.testing.assert_allclose(km32.numpy(), chord_to_km(chords, "float32"), rtol=5e-7)
    same(km_to_chord(torch.from_numpy(chord_to_km(chords))).numpy(),
                                  km_to_chord(chord_to_km(chords)))
    east, north = np.full(200, 30.0), np.full(200, -40.0)
    lat, lon = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    ours = from_plane(lat, lon, plane_basis(east, north))
    theirs = from_plane(*map(torch.from_numpy, (lat, lon)),
                        plane_basis(torch.from_numpy(east), torch.from_numpy(north)))
    for a, b in zip(ours, theirs, strict=True):
        same(b.numpy(), a)


def test_a_variogram_evaluates_tensors_on_their_dtype_and_numpy_in_float64():
    structures = (Structure("spherical", 0.3, 20.0), Structure("gaussian", 0.5, 900.0))
    h = np.geomspace(0.1, 20000, 50)
    ours = nested_gamma(h, 0.1, structures)
    as32 = nested_gamma(torch.from_numpy(h).float(), 0.1, structures)
    assert as32.dtype == torch.float32
    np.testing.assert_allclose(as32.numpy(), ours, rtol=1e-6)
    same(nested_gamma(torch.from_numpy(h), 0.1, structures).numpy(), ours)
