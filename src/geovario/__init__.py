"""geovario: worldwide image geolocalization with semivariogram-guided contrastive learning."""

__version__ = "0.1.0"
