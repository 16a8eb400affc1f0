"""Masks <-> Label Studio results: the labelling interface, brush masks and visibility choices.

A mask goes to Label Studio as a ``brushlabels`` result (Label Studio's own RLE of a 0/255
RGBA image, not COCO RLE) and comes back the same way, with the visibility choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MASK_NAME, IMAGE_NAME, VISIBILITY_NAME, LABEL = "mask", "image", "visibility", "object"
VISIBILITY_CHOICES = ("visible", "occluded", "absent")
ALPHA_THRESHOLD = 128  # a pixel is in the mask when the brush alpha is at least this

MASK_COLOUR = "#ff00ff"  # magenta: stands out on grass, sky, stone and the AgiBot tabletops

INSTRUCTIONS = (
    "The predicted mask is prefilled, in magenta: fix it with the brush and the eraser (the toolbar beside"
    " the image zooms; Shift+1 fits the whole frame). Then pick one, required: visible (the object is in"
    " view: the mask is kept), occluded (the mask is kept, the frame is marked not visible) or absent (the"
    " object is not in the frame: the drawn mask is discarded). Submit."
)

_LABEL = f'<Label value="{LABEL}" background="{MASK_COLOUR}"/>'
# defaultZoom="fit": the whole frame in view (Label Studio's default may crop a wide frame)
_IMAGE = (
    f'<Image name="{IMAGE_NAME}" value="$image" zoom="true" zoomControl="true" defaultZoom="fit"'
    ' maxWidth="100%" smoothing="false"/>'
)
_CHOICES = "".join(f'<Choice value="{choice}"/>' for choice in VISIBILITY_CHOICES)

LABEL_CONFIG = f"""<View>
  <Header value="$title"/>
  <View style="padding: 0 0 8px 0; max-width: 900px">
    <Text name="instructions" value="{INSTRUCTIONS}"/>
  </View>
  {_IMAGE}
  <BrushLabels name="{MASK_NAME}" toName="{IMAGE_NAME}">{_LABEL}</BrushLabels>
  <Choices name="{VISIBILITY_NAME}" toName="{IMAGE_NAME}" choice="single" showInline="true" required="true">
    {_CHOICES}
  </Choices>
</View>"""

# Configs earlier goalframe versions created projects with: `review push` replaces them with LABEL_CONFIG
# (a project whose config is none of these was edited by someone and is left alone).
PREVIOUS_LABEL_CONFIGS = (
    f"""<View>
  <Header value="$title"/>
  <Image name="{IMAGE_NAME}" value="$image" zoom="true" smoothing="false"/>
  <BrushLabels name="{MASK_NAME}" toName="{IMAGE_NAME}"><Label value="{LABEL}"/></BrushLabels>
  <Choices name="{VISIBILITY_NAME}" toName="{IMAGE_NAME}" choice="single" showInline="true">
    {_CHOICES}
  </Choices>
</View>""",
)


def same_config(a: str, b: str) -> bool:
    """Equal up to whitespace between and inside tags (the server may store it reformatted)."""
    return "".join(a.split()) == "".join(b.split())


def mask_result(mask: np.ndarray) -> dict[str, Any]:
    """A ``brushlabels`` result for a boolean (H, W) mask, 0/255 at the image's exact size."""
    from label_studio_sdk.converter.brush import mask2rle

    height, width = mask.shape
    return {
        "from_name": MASK_NAME,
        "to_name": IMAGE_NAME,
        "type": "brushlabels",
        "original_width": int(width),
        "original_height": int(height),
        "image_rotation": 0,
        "value": {
            "format": "rle",
            "rle": mask2rle(np.where(mask, 255, 0).astype(np.uint8)),
            "brushlabels": [LABEL],
        },
    }


def visibility_result(choice: str) -> dict[str, Any]:
    return {
        "from_name": VISIBILITY_NAME,
        "to_name": IMAGE_NAME,
        "type": "choices",
        "value": {"choices": [choice]},
    }


@dataclass
class DecodedAnnotation:
    mask: np.ndarray  # (H, W) bool
    visibility: str | None


class SizeMismatch(ValueError):
    pass


def decode_result(result: Sequence[dict[str, Any]], height: int, width: int) -> DecodedAnnotation:
    """Union of the brush regions (alpha >= ALPHA_THRESHOLD) and the visibility choice."""
    from label_studio_sdk.converter.brush import decode_rle

    mask = np.zeros((height, width), bool)
    visibility = None
    for item in result or []:
        value = item.get("value") or {}
        if item.get("type") == "brushlabels" and item.get("from_name") == MASK_NAME:
            w, h = item.get("original_width"), item.get("original_height")
            if (w, h) != (width, height):
                raise SizeMismatch(f"mask is {w}x{h} but the frame is {width}x{height}")
            if value.get("format", "rle") != "rle" or "rle" not in value:
                raise SizeMismatch(f"brush region in format {value.get('format')!r}, expected rle")
            flat = decode_rle(value["rle"])
            if flat.size != height * width * 4:
                raise SizeMismatch(
                    f"mask RLE holds {flat.size} values, expected {height}x{width}x4 = {height * width * 4}"
                )
            mask |= flat.reshape(height, width, 4)[:, :, 3] >= ALPHA_THRESHOLD
        elif item.get("type") == "choices" and item.get("from_name") == VISIBILITY_NAME:
            choices = value.get("choices") or []
            visibility = choices[0] if choices else None
    return DecodedAnnotation(mask, visibility)


def reviewed_visible(decoded: DecodedAnnotation) -> tuple[np.ndarray, bool]:
    """(mask, visible) of a reviewed frame: 'absent' clears the mask; 'visible' (or no choice) is visible."""
    if decoded.visibility == "absent":
        return np.zeros_like(decoded.mask), False
    return decoded.mask, decoded.visibility in (None, "visible") and bool(decoded.mask.any())
