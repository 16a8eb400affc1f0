"""PyTorch datasets over a goalframe dataset: ROCKET-2 cross-view windows and Act2Goal MSTH samples.

Both datasets

- read only the tables (``pairs`` / ``msth``) and episode list when built, precompute every
  sample's indices once into numpy arrays (no per-sample Python objects, so forked
  DataLoader workers do not copy-on-write their way to gigabytes), and open the zarr store
  lazily in each process that reads samples (``DataLoader(num_workers > 0)`` works, each
  worker opens its own store);
- are deterministic: sample ``i`` depends only on the tables, the parameters and ``seed``
  (which draws the episode split), never on worker order or earlier samples;
- split by episode: ``split="train" | "val" | "all"``; ``val_fraction`` of the episodes
  (at least one when there are two or more) go to ``val``, drawn with ``seed``;
- return a dict of tensors with stable keys (below). Images are uint8 RGB, channels first,
  resized to ``size`` x ``size`` as torchvision's ``Resize(antialias=True)`` (masks: nearest),
  aspect ratio not kept (ROCKET's 360x640 -> 224x224). Padded positions
  repeat the nearest valid frame and are flagged ``True`` in the matching pad mask.

Frames come from the one frame reader, :class:`goalframe.storage.frames.FrameReader` (the
fast JPEG shard path is there).

Action vectors (``action``): AgiBot, 22 floats as LeRobot's AgiBot port: head 2, left arm
joints 7, left gripper, right arm joints 7, right gripper, waist 2, base velocity 2 (the
state, 20 floats, is the same without the base velocity; arrays an episode lacks are
zeros; every column is named in :mod:`goalframe.schemas.vectors` and in each AgiBot
episode's ``vectors`` attrs; dexterous-hand episodes are refused with one line). VPT, 22
floats: the 20 buttons (0/1) then the 2 camera bins (0..10, 5 = still).
"""

from goalframe.sampling.crossview import CrossViewDataset
from goalframe.sampling.dataset_base import SPLITS, split_episodes
from goalframe.sampling.msth_dataset import MSTH_GOALS, MSTHDataset

__all__ = ["MSTH_GOALS", "SPLITS", "CrossViewDataset", "MSTHDataset", "split_episodes"]
