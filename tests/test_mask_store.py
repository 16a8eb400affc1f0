"""Mask tracks: atomic writes, reviewed revisions that never overwrite, the tracks table."""

from __future__ import annotations

import numpy as np
import pytest
import simple_source

from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset
from goalframe.storage.masks import MaskTrack, rebuild_tracks_table, track_id_for, write_review, write_track
from goalframe.storage.store import open_root


@pytest.fixture
def dataset(tmp_path):
    return simple_source.ingested_episode(tmp_path, 20)


def square_masks(frames, size=(72, 128), side=10):
    masks = np.zeros((len(frames), *size), bool)
    for i, f in enumerate(frames):
        masks[i, 20 : 20 + side, f : f + side] = True
    return masks


def test_write_read_review_and_table(dataset):
    root = open_root(dataset, "r+")
    frames = np.arange(5, 12)
    masks = square_masks(frames)
    masks[0] = False  # not visible on the first frame
    track = MaskTrack.from_masks(frames, masks, score=np.linspace(0.5, 1, 7))
    assert not track.visible[0] and track.visible[1:].all()
    np.testing.assert_allclose(track.centroid[1], (24.5, 6 + 4.5))
    np.testing.assert_allclose(track.bbox[1], (6, 20, 16, 30))
    tid = track_id_for("ep0:00003", "main", "classical")
    assert tid == "00003.main.classical"
    write_track(
        root,
        "ep0",
        tid,
        track,
        {
            "event_id": "ep0:00003",
            "camera": "main",
            "annotator": "classical",
            "annotator_version": "1",
            "event_frame": 11,
        },
    )
    ds = open_dataset(dataset)
    auto = ds.read_track("ep0", tid)
    np.testing.assert_array_equal(auto.mask, masks)
    # two review rounds on frame 8; the newer wins, the automatic rows stay on disk
    first = MaskTrack.from_masks([8], np.zeros((1, 72, 128), bool))
    second = MaskTrack.from_masks([8], square_masks([40]))
    write_review(root, "ep0", tid, first, {"task_id": 1})
    write_review(root, "ep0", tid, second, {"task_id": 2})
    merged = open_dataset(dataset).read_track("ep0", tid)
    row = merged.row(8)
    np.testing.assert_array_equal(merged.mask[row], square_masks([40])[0])
    assert merged.attrs["reviewed_frames"] == [8]
    np.testing.assert_array_equal(open_dataset(dataset).read_track("ep0", tid, reviewed=False).mask, masks)
    table = rebuild_tracks_table(dataset)
    record = table.row(0, named=True)
    assert (
        record["start_frame"],
        record["stop_frame"],
        record["n_visible"],
        record["reviewed"],
        record["n_reviewed_frames"],
    ) == (5, 12, 6, True, 1)


def test_review_of_a_missing_track_is_refused(dataset):
    root = open_root(dataset, "r+")
    with pytest.raises(DatasetError, match="no complete track"):
        write_review(root, "ep0", "nope", MaskTrack.from_masks([1], np.zeros((1, 4, 4), bool)), {})
