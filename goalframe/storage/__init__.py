"""The Zarr dataset: layout, episode writer with atomic commit, readers, parallel builds, tables."""

from goalframe.storage.dataset import Dataset, open_dataset
from goalframe.storage.ingest import EpisodeResult, IngestReport, ingest

__all__ = ["Dataset", "open_dataset", "ingest", "IngestReport", "EpisodeResult"]
