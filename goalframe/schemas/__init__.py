"""Data contracts shared by every layer: metadata records, table schemas, raw episodes."""

from goalframe.schemas.episode import EpisodeMeta, RawEpisode, RawFormatError, episode_key
from goalframe.schemas.layout import LAYOUT_VERSION, DatasetError, DatasetInfo, StepRecord
from goalframe.schemas.tables import EVENTS_SCHEMA, INTERACTION_IDS, MANIFEST_SCHEMA, TRACKS_SCHEMA

__all__ = [
    "EpisodeMeta",
    "RawEpisode",
    "RawFormatError",
    "episode_key",
    "LAYOUT_VERSION",
    "DatasetError",
    "DatasetInfo",
    "StepRecord",
    "MANIFEST_SCHEMA",
    "EVENTS_SCHEMA",
    "INTERACTION_IDS",
    "TRACKS_SCHEMA",
]
