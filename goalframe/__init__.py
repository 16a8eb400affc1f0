"""goalframe: raw robot and game recordings to goal-conditioned training data.

The public entry points for Python users:

    from goalframe.storage import open_dataset
    ds = open_dataset("runs/vpt.zarr")
    frames = ds.read_frames(ds.episodes[0], 0, 16)      # (16, H, W, 3) uint8
"""

__version__ = "0.1.0"
