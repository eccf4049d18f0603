"""Every named thing is looked up one way: registries with list_*() and one-line errors."""

import subprocess
import sys

import pytest

from geovario.ablation.variants import list_variants
from geovario.backbones import list_backbones
from geovario.data.datasets import list_datasets, load_dataset
from geovario.errors import GeovarioError
from geovario.inference.gallery import list_galleries, load_gallery
from geovario.losses import build_loss, list_losses
from geovario.registry import Registry
from geovario.variogram.models import list_families


def test_exact_names_prefixes_and_bare_prefixes():
    things = Registry("thing")
    things.register("plain")("P")
    things.register("pre:", spec="<word>")("Q")
    assert things.names() == ["plain", "pre:<word>"]
    assert things.lookup("plain") == ("P", None)
    assert things.lookup("pre:a:b") == ("Q", "a:b")
    assert things.lookup("pre") == ("Q", None)
    assert "pre:x" in things and "plain:x" not in things and "prex" not in things
    assert list(things) == ["plain", "pre:"] and len(things) == 2
    with pytest.raises(GeovarioError, match=r"^unknown thing 'nope' \(choose from plain, "
                                            r"pre:<word>\)$"):
        things["nope"]
    with pytest.raises(GeovarioError, match="thing: 'plain' is already registered"):
        things.register("plain")("again")


def test_the_order_of_losses_does_not_depend_on_which_module_was_imported_first():
    # A fresh interpreter, so this process's imports cannot hide the dependence.
    code = ("import geovario.losses.semivariogram; from geovario.losses import list_losses; "
            "print(','.join(list_losses()))")
    listed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert listed == "infonce,semivariogram"


def test_every_kind_lists_its_names():
    assert list_losses() == ["infonce", "semivariogram"]
    assert list_variants() == ["infonce", "hard", "false", "both", "prototype"]
    assert list_datasets() == ["osv5m", "csv", "bluemarble"]
    assert list_galleries() == ["geoclip", "store:<feature store folder>",
                                "csv:<file with latitude, longitude>"]
    assert "efficientnet-lite0" in list_backbones()
    assert {"spherical", "exponential", "spherical+exponential"} <= set(list_families())


def test_unknown_names_are_one_line_errors(tmp_path):
    with pytest.raises(GeovarioError, match=r"^unknown loss 'arcface' \(choose from infonce, "
                                            r"semivariogram\)$"):
        build_loss("arcface")
    with pytest.raises(GeovarioError, match=r"^unknown dataset 'imagenet'"):
        load_dataset("imagenet", tmp_path)


def test_galleries_by_prefix_and_bare_path(tmp_path):
    (tmp_path / "g.csv").write_text("lat,lon\n1,2\n3,4\n")
    for spec in (f"csv:{tmp_path / 'g.csv'}", str(tmp_path / "g.csv")):
        assert load_gallery(spec).coords.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(GeovarioError, match="gallery store: needs a folder"):
        load_gallery("store:")
    with pytest.raises(GeovarioError, match=r"nowhere\.csv: no such file"):
        load_gallery("nowhere.csv")


def test_galleries_joined_by_plus_are_their_points_one_after_the_other(tmp_path):
    (tmp_path / "a.csv").write_text("lat,lon\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("lat,lon\n3,4\n5,6\n")
    union = load_gallery(f"csv:{tmp_path / 'a.csv'}+{tmp_path / 'b.csv'}")
    assert union.coords.tolist() == [[1, 2], [3, 4], [3, 4], [5, 6]]
    assert union.name == f"{tmp_path / 'a.csv'}+{tmp_path / 'b.csv'}"
    (tmp_path / "c+d.csv").write_text("lat,lon\n7,8\n")  # a path that exists is one part
    assert load_gallery(str(tmp_path / "c+d.csv")).coords.tolist() == [[7, 8]]
    with pytest.raises(GeovarioError, match=r"an empty part between '\+' signs"):
        load_gallery(f"{tmp_path / 'a.csv'}++geoclip")
