"""Datasets that feed the feature store: OSV-5M zip shards, CSV + image folder, Blue Marble."""
