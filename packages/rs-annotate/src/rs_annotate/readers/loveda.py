"""LoveDA land-cover segmentation: 8-bit index masks -> M2B boxes.

Mask values: 0 no-data, 1 background, 2 building, 3 road, 4 water, 5 barren, 6 forest, 7 agriculture.
No-data is never a class, and background ("everything else") is ignored by default as RemoteCLIP does for
its SEG-4 sources (``keep_background=True`` keeps it). Every connected region of a class becomes a box
(see :mod:`rs_annotate.m2b`). A mask whose size differs from its image, a mask that is not single-channel,
and values above 7 are BadInput.
"""

from __future__ import annotations

from pathlib import Path

from ..m2b import MaskRegions
from ..types import BadInput, Sample
from .base import CONNECTIVITY, MIN_AREA, Option, Reader, ReaderInfo, chosen_splits, register, source_option
from .files import check_same_size, image_size, load_array

LOVEDA_LABELS = {
    1: "background",
    2: "building",
    3: "road",
    4: "water",
    5: "barren",
    6: "forest",
    7: "agriculture",
}
SPLITS = ("Train", "Val", "Test")
DOMAINS = ("Urban", "Rural")


@register
class LovedaReader(Reader):
    """LoveDA ``{Train,Val}/{Urban,Rural}/{images_png,masks_png}/`` (options: :attr:`OPTIONS`).

    Image ids are ``loveda/<split>/<domain>/<n>``.
    """

    info = ReaderInfo(
        name="loveda",
        title="LoveDA (land-cover index masks; M2B)",
        layout="ROOT/\n  Train/Urban/images_png/1366.png\n  Train/Urban/masks_png/1366.png\n"
        "  Train/Rural/...\n  Val/{Urban,Rural}/...",
        license="LoveDA: CC BY-NC-SA 4.0",
        url="https://github.com/Junjue-Wang/LoveDA",
        kind="captions",
    )
    OPTIONS = (
        Option(
            "splits",
            None,
            "split folders to read, e.g. Train (default: Train and Val, those present; "
            "LoveDA's test masks are not public)",
        ),
        Option("keep_background", False, "also box the 'background' class (value 1)"),
        MIN_AREA,
        CONNECTIVITY,
        source_option("loveda"),
    )

    def items(self) -> list[tuple[str, str, str, str, str | None]]:
        out = []
        present = [s for s in SPLITS[:2] if any((self.root / s / d / "images_png").is_dir() for d in DOMAINS)]
        for split in chosen_splits(self.root, self.options["splits"], present):
            for domain in DOMAINS:
                base = self.root / split / domain
                if not (base / "images_png").is_dir():
                    continue
                for image in sorted((base / "images_png").glob("*.png")):
                    mask = base / "masks_png" / image.name
                    out.append((image.stem, split, domain, str(image), str(mask) if mask.is_file() else None))
        if not out:
            raise BadInput(self.root, "no images: expected {Train,Val}/{Urban,Rural}/images_png/*.png")
        return out

    def read(self, item: tuple[str, str, str, str, str | None]) -> Sample:
        stem, split, domain, image, mask = item
        image_path = Path(image)
        if mask is None:
            raise BadInput(image_path, f"image has no mask masks_png/{image_path.name}")
        mask_path = self.source_file(mask)
        size = image_size(self.source_file(image_path))
        values = load_array(mask_path)
        if values.ndim != 2:
            raise BadInput(mask_path, f"expected a single-channel index mask, got shape {values.shape}")
        check_same_size(values, mask_path, size, "the image")
        labels = dict(LOVEDA_LABELS)
        ignore = [0]
        if not self.options["keep_background"]:
            ignore.append(1)
            del labels[1]
        regions = MaskRegions(
            values,
            labels,
            ignore=ignore,
            min_area=self.options["min_area"],
            connectivity=self.options["connectivity"],
            path=mask_path,
        )
        source = self.options["source"]
        return Sample(
            image_id=f"{source}/{split.lower()}/{domain.lower()}/{stem}",
            source=source,
            image_path=image_path,
            boxes=regions.boxes(),
            split=split.lower(),
            size=size,
            regions=regions,
            meta={"file": mask_path.relative_to(self.root).as_posix(), "domain": domain.lower()},
        )
