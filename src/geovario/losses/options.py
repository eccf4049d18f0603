"""The semivariogram loss's option values and defaults, importable without torch (CLI help)."""

FALSE_NEGATIVE_MODES = ("downweight", "soft-positive", "none")
RULES = ("abstract", "prototype")
SCALES = ("sill", "spread")
#: Far pairs count as hard negatives when they look more alike than expected by more
#: than this many per-lag spreads of d. m = 0: every far pair that looks more alike than
#: expected is hard. Chosen by the evidence study (benchmarks/RESULTS.md, "Evidence"): on
#: Blue Marble m = 0 beat m = 1, and m = 1 beat m = 2, at 200, 750 and 2,500 km and in
#: GeoScore (paired, 5 seeds).
DEFAULT_HARD_MARGIN = 0.0
#: β, how fast a hard negative's weight grows with its residual. The same study at m = 0:
#: β = 2 beat β = 1 (GeoScore +19 [+6, +31]), which beat β = 0.5; larger β not yet tried.
DEFAULT_HARD_STRENGTH = 2.0
