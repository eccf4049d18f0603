"""``geovario variogram``'s tables of a region-wise fit and of how its K was chosen."""


def format_regions(regional, sample: int) -> str:
    """One line per region: centroid, places, range and sill, and its own fit's range."""
    lines = ["", f"regions       {len(regional.regions)} (asked {regional.requested}; at least "
             f"{regional.min_points} places each; pairs anchored in the region, shrunk toward "
             f"the global curve with kappa {regional.shrinkage_pairs:g}; up to "
             f"{sample:,} places)"]
    if regional.regions:
        lines.append(f"region ranges {region_range_text(regional)}")
    lines.append(f"{'region':>6} {'lat':>7} {'lon':>8} {'places':>8} {'range km':>10} "
                 f"{'sill':>9} {'own fit km':>11}")
    for i, r in enumerate(regional.regions):
        own = "-" if r.local is None else f"{r.local.range_km:,.0f}"
        lines.append(f"{i:>6} {r.lat:7.1f} {r.lon:8.1f} {r.points:8,d} "
                     f"{r.fitted.range_km:10,.0f} {r.fitted.sill:9.4g} {own:>11}")
    return "\n".join(lines)


def region_range_text(regional) -> str:
    """E.g. "300-2,000 km over 6 regions (global 1,000 km)"."""
    ranges = [r.fitted.range_km for r in regional.regions]
    return (f"{min(ranges):,.0f}-{max(ranges):,.0f} km over {len(ranges)} regions (global "
            f"{regional.global_fit.range_km:,.0f} km)")


def format_selection(selection) -> str:
    """The candidates' held-out scores and the K chosen (see ``regional_select``)."""
    held = (f"{selection.validation_places:,} of "
            f"{selection.fit_places + selection.validation_places:,} places held out at "
            f"random (seed {selection.seed})" if selection.folds == 1 else
            f"{selection.folds}-fold cross-validation over {selection.validation_places:,} "
            f"places (seed {selection.seed})")
    lines = ["", f"region choice {held}; {selection.validation_pairs:,} held-out pairs "
             f"in {selection.bins} bins; score: weighted mean squared error of their "
             "dissimilarity; SE: jackknife over "
             f"{selection.blocks} spatial blocks",
             f"{'K':>6} {'regions':>8} {'score':>12} {'above best':>12} {'SE':>10}"]
    for c in selection.candidates:
        mark = "  best" if c.requested == selection.best else ""
        mark += "  chosen" if c.requested == selection.chosen else ""
        lines.append(f"{c.requested:>6} {c.regions:>8} {c.score:12.6g} {c.difference:12.4g} "
                     f"{c.difference_se:10.4g}{mark}")
    lines.append(f"chosen        K = {selection.chosen}: the fewest regions within one SE of "
                 "the best" + ("; the global curve alone, no regions" if selection.chosen == 1
                               else ", refitted on all places"))
    return "\n".join(lines)
