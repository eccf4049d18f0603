"""Resumable, fault-tolerant extraction of frozen-backbone features into the feature store.

``extract_features(samples, backbone, out)`` reads a dataset's images in a few decoding
threads, embeds them and commits them to ``out`` one chunk of rows at a time:

- deterministic: rows go in dataset order, ``chunk_size`` rows per shard and batches
  counted from each chunk's start, so a run killed at any moment and rerun, a run split
  over ``torchrun`` ranks and an uninterrupted run write the same store;
- fault-tolerant: rows with invalid coordinates, missing or undecodable images are
  skipped, counted and listed in ``out/skipped.csv`` (id, reason, detail);
- distributed: each rank fills its own part store, rank 0 appends the parts in order.
"""

from geovario.extract.plan import DEFAULT_CHUNK_SIZE
from geovario.extract.run import ExtractReport, extract_features
from geovario.extract.skiplog import SKIP_LOG_NAME, SkipLog

__all__ = ["DEFAULT_CHUNK_SIZE", "SKIP_LOG_NAME", "ExtractReport", "SkipLog", "extract_features"]
