"""iSAID instance segmentation: an image and two RGB-coded PNG masks.

``P0005_instance_color_RGB.png`` colours every pixel with its class (the iSAID devkit palette below);
``P0005_instance_id_RGB.png`` encodes instance ids as ``R + 256 G + 256^2 B`` (0 = no instance).

Boxes (option ``boxes``):

* ``regions`` (default): M2B as the RemoteCLIP paper describes it for its SEG-4 sets, iSAID included
  (section III-B-2: "the segmentation mask is processed by category ... the contour points of the
  connected regions for each class in the mask image are identified"): one box per connected region of
  each class of the colour mask. Touching instances of one class (packed cars, moored ships) become one
  box, as in the paper; the instance-id mask is not needed.
* ``instances``: one box per instance id around all of its pixels (an occluded ship drawn in two pieces
  stays one ship); its class is the class colour most of its pixels carry (iSAID draws an instance in one
  colour; the vote only guards against a stray edge pixel).

Unknown colours, mask sizes that differ from the image, and instances drawn only in the background colour
are BadInput.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..classnames import normalize
from ..m2b import MaskRegions, decode_rgb_mask
from ..types import BadInput, Sample
from .base import MIN_AREA, TOLERANCE, Option, Reader, ReaderInfo, chosen_splits, register, source_option
from .files import IMAGE_SUFFIXES, SPLITS, check_same_size, image_size, load_array

# iSAID devkit class order and colours (RGB), index 0 = background.
ISAID_CLASSES = (
    "background",
    "ship",
    "storage_tank",
    "baseball_diamond",
    "tennis_court",
    "basketball_court",
    "Ground_Track_Field",
    "Bridge",
    "Large_Vehicle",
    "Small_Vehicle",
    "Helicopter",
    "Swimming_pool",
    "Roundabout",
    "Soccer_ball_field",
    "plane",
    "Harbor",
)
ISAID_PALETTE = (
    (0, 0, 0),
    (0, 0, 63),
    (0, 63, 63),
    (0, 63, 0),
    (0, 63, 127),
    (0, 63, 191),
    (0, 63, 255),
    (0, 127, 63),
    (0, 127, 127),
    (0, 0, 127),
    (0, 0, 191),
    (0, 0, 255),
    (0, 191, 127),
    (0, 127, 191),
    (0, 127, 255),
    (0, 100, 155),
)
COLOR_SUFFIX = "_instance_color_RGB"
ID_SUFFIX = "_instance_id_RGB"


def instance_classes(ids: np.ndarray, classes: np.ndarray, path: Path) -> dict[int, int]:
    """Majority class index (never 0 = background) of every non-zero instance id."""
    inside = ids != 0
    inst, cls = ids[inside], classes[inside]
    if inst.size == 0:
        return {}
    uniq, inverse = np.unique(inst, return_inverse=True)
    n_cls = int(classes.max()) + 1
    votes = np.bincount(inverse * n_cls + cls, minlength=uniq.size * n_cls).reshape(uniq.size, n_cls)
    votes[:, 0] = 0
    best = votes.argmax(axis=1)
    empty = uniq[votes[np.arange(uniq.size), best] == 0]
    if empty.size:
        raise BadInput(path, f"instance id(s) {empty[:10].tolist()} are drawn only in the background colour")
    return dict(zip(uniq.tolist(), best.tolist()))


BOXES = ("regions", "instances")


def parse_isaid(
    color_path: Path,
    id_path: Path | None,
    size: tuple[int, int] | None = None,
    *,
    min_area: float = 0,
    tolerance: int = 0,
    boxes: str = "regions",
) -> list:
    """Boxes of one iSAID mask pair; ``size`` (the image's) is checked against the masks."""
    return isaid_regions(
        color_path, id_path, size, min_area=min_area, tolerance=tolerance, boxes=boxes
    ).boxes()


def isaid_regions(
    color_path: Path,
    id_path: Path | None,
    size: tuple[int, int] | None = None,
    *,
    min_area: float = 0,
    tolerance: int = 0,
    boxes: str = "regions",
) -> MaskRegions:
    """The class regions (``boxes="regions"``) or instances (``"instances"``, which needs ``id_path``) of
    one iSAID mask pair, for the boxes of the whole image or of a tile."""
    color = load_array(color_path, "RGB")
    if size is not None:
        check_same_size(color, color_path, size, "the image")
    classes = decode_rgb_mask(
        color, {c: i for i, c in enumerate(ISAID_PALETTE)}, path=color_path, tolerance=tolerance
    )
    names = [normalize(n) for n in ISAID_CLASSES]
    if boxes == "regions":
        labels = dict(enumerate(names[1:], start=1))
        return MaskRegions(classes, labels, ignore=(0,), min_area=min_area, path=color_path)
    if id_path is None:
        raise BadInput(
            color_path, f"image has no instance-id mask ({ID_SUFFIX}.png), which boxes=instances needs"
        )
    ids_rgb = load_array(id_path, "RGB").astype(np.int32)
    if color.shape != ids_rgb.shape:
        raise BadInput(
            id_path,
            f"instance-id mask is {ids_rgb.shape[1]}x{ids_rgb.shape[0]} but the colour "
            f"mask is {color.shape[1]}x{color.shape[0]}",
        )
    ids = ids_rgb[..., 0] + 256 * ids_rgb[..., 1] + 65536 * ids_rgb[..., 2]
    cls_of = instance_classes(ids, classes, id_path)
    return MaskRegions(
        ids, {k: names[c] for k, c in cls_of.items()}, min_area=min_area, instances=True, path=id_path
    )


def _find_mask(image: Path, suffix: str, split_dir: Path, subdir: str) -> Path | None:
    """A mask beside the image (devkit layout) or in the release's ``<Semantic|Instance>_masks/images/``."""
    for folder in (image.parent, split_dir / subdir / "images", split_dir / subdir):
        candidate = folder / f"{image.stem}{suffix}.png"
        if candidate.is_file():
            return candidate
    return None


@register
class IsaidReader(Reader):
    """iSAID ``{train,val}/images/`` with the two masks beside each image or in the release's mask folders.

    Options: :attr:`OPTIONS`. A root that is itself a split folder (holding ``images/``) reads as ``train``.
    """

    info = ReaderInfo(
        name="isaid",
        title="iSAID (instance masks: _instance_color_RGB.png + _instance_id_RGB.png)",
        layout="ROOT/\n  train/images/P0005.png\n  train/images/P0005_instance_color_RGB.png  (or "
        "train/Semantic_masks/images/)\n  train/images/P0005_instance_id_RGB.png     (or "
        "train/Instance_masks/images/)\n  val/...",
        license="iSAID annotations: CC BY-NC-SA 4.0; images from DOTA (academic use only)",
        url="https://captain-whu.github.io/iSAID/",
        kind="captions",
    )
    OPTIONS = (
        Option(
            "splits",
            None,
            "split folders to read, e.g. train (default: train and val, those present; "
            "iSAID's test masks are not public)",
        ),
        Option(
            "boxes",
            "regions",
            "regions: a box per connected region of each class (the paper's M2B); instances: a box per "
            "instance id",
            choices=BOXES,
        ),
        MIN_AREA,
        TOLERANCE,
        source_option("isaid"),
    )

    def items(self) -> list[tuple[str, str, str, str | None, str | None]]:
        if (self.root / "images").is_dir():
            split_dirs = [(self.root, "train")]
        else:
            present = [s for s in SPLITS[:2] if (self.root / s / "images").is_dir()]
            split_dirs = [
                (self.root / s, s) for s in chosen_splits(self.root, self.options["splits"], present)
            ]
        if not split_dirs:
            raise BadInput(self.root, "no images/ folder (nor train/images/, val/images/)")
        out = []
        for split_dir, split in split_dirs:
            for image in sorted((split_dir / "images").iterdir()):
                if image.suffix.lower() not in IMAGE_SUFFIXES or image.stem.endswith(
                    (COLOR_SUFFIX, ID_SUFFIX)
                ):
                    continue
                color = _find_mask(image, COLOR_SUFFIX, split_dir, "Semantic_masks")
                ids = _find_mask(image, ID_SUFFIX, split_dir, "Instance_masks")
                out.append(
                    (image.stem, split, str(image), str(color) if color else None, str(ids) if ids else None)
                )
        return out

    def read(self, item: tuple[str, str, str, str | None, str | None]) -> Sample:
        stem, split, image, color, ids = item
        image_path = Path(image)
        boxes = self.options["boxes"]
        needed = ((color, COLOR_SUFFIX),) + (((ids, ID_SUFFIX),) if boxes == "instances" else ())
        for mask, suffix in needed:
            if mask is None:
                raise BadInput(image_path, f"image has no mask {stem}{suffix}.png")
        size = image_size(self.source_file(image_path))
        regions = isaid_regions(
            self.source_file(color),
            self.source_file(ids) if boxes == "instances" else None,
            size,
            min_area=self.options["min_area"],
            tolerance=self.options["tolerance"],
            boxes=boxes,
        )
        source = self.options["source"]
        label_file = ids if boxes == "instances" else color
        meta: dict[str, Any] = {"file": Path(label_file).relative_to(self.root).as_posix()}
        return Sample(
            image_id=f"{source}/{stem}",
            source=source,
            image_path=image_path,
            boxes=regions.boxes(),
            split=split,
            size=size,
            meta=meta,
            regions=regions,
        )
