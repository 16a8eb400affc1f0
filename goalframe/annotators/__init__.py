"""Annotation: interaction events, mask annotators, the Label Studio bridge."""

from goalframe.annotators.events import EventFilters, apply_filters, episode_events, extract_events
from goalframe.annotators.vpt_events import vpt_events

__all__ = ["EventFilters", "apply_filters", "episode_events", "extract_events", "vpt_events"]
