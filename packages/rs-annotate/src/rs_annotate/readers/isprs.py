"""ISPRS 2D semantic labelling: Potsdam and Vaihingen, RGB-coded label tiles -> M2B boxes.

Colours: impervious surfaces (255, 255, 255), building (0, 0, 255), low vegetation (0, 255, 255), tree
(0, 255, 0), car (255, 255, 0), clutter/background (255, 0, 0); the eroded ``noBoundary`` labels add
black (0, 0, 0) for the ignored boundary band. Clutter/background is ignored by default, as RemoteCLIP
ignores background classes for its SEG-4 sources: it is a catch-all of unrelated things, not an object a
caption could name. Impervious surfaces (roads, pavements) are kept: they are a real class of the
benchmark and captions mention roads; ``ignore=("clutter", "impervious surface")`` drops them too.
A pixel of any other colour is BadInput (``tolerance`` absorbs small deviations, e.g. labels that
went through lossy compression).

Image variants: Potsdam ships each tile as ``RGB``, ``IRRG`` (near infrared, red, green) and ``RGBIR``
(four bands). ``variant="RGB"`` (default) reads the RGB tiles. ``"IRRG"`` reads the false-colour tiles
as they are (NIR in the red channel): that is how Vaihingen, which has no blue band, is always used.
``"RGBIR"`` reads the four-band tiles and keeps bands 1-3 (R, G, B), so the pipeline gets true colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..m2b import decode_rgb_mask, mask_to_boxes
from ..types import BadInput, Sample
from .base import Reader, ReaderInfo, register
from .files import check_same_size, image_size, load_array, names_option

ISPRS_CLASSES = ("impervious surface", "building", "low vegetation", "tree", "car", "clutter")
ISPRS_PALETTE = ((255, 255, 255), (0, 0, 255), (0, 255, 255), (0, 255, 0), (255, 255, 0), (255, 0, 0))
BOUNDARY = len(ISPRS_CLASSES)  # index of the black boundary band of the eroded labels
LABEL_SUFFIXES = ("_label_noBoundary", "_noBoundary", "_label")


def tile_of(label_stem: str) -> str:
    for suffix in LABEL_SUFFIXES:
        if label_stem.endswith(suffix):
            return label_stem[: -len(suffix)]
    return label_stem


def parse_isprs(label_path: Path, size: tuple[int, int] | None = None, *, ignore=("clutter",),
                min_area: float = 0, connectivity: int = 8, tolerance: int = 0) -> list:
    """Boxes of one RGB-coded ISPRS label tile; ``size`` (the image's) is checked against it."""
    unknown = set(ignore) - set(ISPRS_CLASSES)
    if unknown:
        raise ValueError(f"ignore: unknown ISPRS class(es) {sorted(unknown)}; known: {', '.join(ISPRS_CLASSES)}")
    rgb = load_array(label_path, "RGB")
    if size is not None:
        check_same_size(rgb, label_path, size, "the image")
    palette = {c: i for i, c in enumerate(ISPRS_PALETTE)}
    palette[(0, 0, 0)] = BOUNDARY
    index = decode_rgb_mask(rgb, palette, path=label_path, tolerance=tolerance)
    ignored = {ISPRS_CLASSES.index(n) for n in ignore} | {BOUNDARY}
    labels = {i: n for i, n in enumerate(ISPRS_CLASSES) if i not in ignored}
    return mask_to_boxes(index, labels, ignore=ignored, min_area=min_area, connectivity=connectivity,
                         path=label_path)


class IsprsReader(Reader):
    """Shared code of the Potsdam and Vaihingen readers.

    Options: ``variant`` (Potsdam: "RGB", "IRRG" or "RGBIR"), ``labels`` (label folder, relative to the
    root), ``ignore`` (class names to ignore; default ("clutter",)), ``min_area`` (0), ``connectivity``
    (8), ``tolerance`` (0), ``split`` ("train": ISPRS defines its split by tile lists, not folders),
    ``source``. A label tile without an image, or an image without a label tile, is BadInput.
    """

    VARIANTS: ClassVar[dict[str, tuple[str, str]]]  # variant -> (image folder, file-name suffix)
    DEFAULT_VARIANT: ClassVar[str]
    LABEL_DIRS: ClassVar[tuple[str, ...]]

    def _variant(self) -> tuple[str, str, str]:
        variant = self.options.get("variant", self.DEFAULT_VARIANT)
        if variant not in self.VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(self.VARIANTS)}, got {variant!r}")
        return (variant, *self.VARIANTS[variant])

    def _label_dir(self) -> Path:
        given = self.options.get("labels")
        if given is not None:
            return self.trust_dir(self.root / given)
        for name in self.LABEL_DIRS:
            if (self.root / name).is_dir():
                return self.root / name
        raise BadInput(self.root, f"no label folder ({' or '.join(self.LABEL_DIRS)}); pass labels=DIR")

    def items(self) -> list[tuple[str, str | None, str | None]]:
        _, image_dir, suffix = self._variant()
        label_dir = self._label_dir()
        labels = {tile_of(p.stem): p for p in sorted(label_dir.glob("*.tif"))}
        images = {}
        if (self.root / image_dir).is_dir():
            for p in sorted((self.root / image_dir).glob(f"*{suffix}.tif")):
                images[p.stem[: len(p.stem) - len(suffix)]] = p
        tiles = sorted(labels.keys() | images.keys())
        if not tiles:
            raise BadInput(self.root, f"no label tiles in {label_dir.name}/ and no images in {image_dir}/")
        return [(t, str(images[t]) if t in images else None, str(labels[t]) if t in labels else None)
                for t in tiles]

    def read(self, item: tuple[str, str | None, str | None]) -> Sample:
        tile, image, label = item
        variant, image_dir, suffix = self._variant()
        if label is None:
            raise BadInput(image, "image has no label tile")
        label_path = self.source_file(label)
        if image is None:
            raise BadInput(label_path, f"label tile has no image {image_dir}/{tile}{suffix}.tif")
        image_path = self.source_file(image)
        pixels = None
        if variant == "RGBIR":
            bands = load_array(image_path)
            if bands.ndim != 3 or bands.shape[2] < 3:
                raise BadInput(image_path, f"expected a multi-band RGBIR image, got shape {bands.shape}")
            pixels = np.ascontiguousarray(bands[..., :3])
            size = (pixels.shape[1], pixels.shape[0])
        else:
            size = image_size(image_path)
        boxes = parse_isprs(label_path, size, ignore=tuple(names_option(self.options.get("ignore", ("clutter",)))),
                            min_area=self.options.get("min_area", 0),
                            connectivity=self.options.get("connectivity", 8),
                            tolerance=self.options.get("tolerance", 0))
        source = self.options.get("source", self.info.name)
        meta: dict[str, Any] = {"file": label_path.relative_to(self.root).as_posix(), "bands": variant}
        return Sample(image_id=f"{source}/{tile}", source=source, image_path=image_path, image=pixels,
                      boxes=boxes, split=self.options.get("split", "train"), size=size, meta=meta)


@register
class PotsdamReader(IsprsReader):
    __doc__ = IsprsReader.__doc__
    info = ReaderInfo(
        name="potsdam",
        title="ISPRS Potsdam (RGB-coded labels; RGB / IRRG / RGBIR tiles; M2B)",
        layout="ROOT/\n  2_Ortho_RGB/top_potsdam_2_10_RGB.tif\n  3_Ortho_IRRG/top_potsdam_2_10_IRRG.tif\n"
               "  4_Ortho_RGBIR/top_potsdam_2_10_RGBIR.tif\n  5_Labels_all/top_potsdam_2_10_label.tif",
        license="ISPRS benchmark data: research use, registration required (see the ISPRS page)",
        url="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-potsdam.aspx",
        kind="captions",
    )
    VARIANTS = {"RGB": ("2_Ortho_RGB", "_RGB"), "IRRG": ("3_Ortho_IRRG", "_IRRG"),
                "RGBIR": ("4_Ortho_RGBIR", "_RGBIR")}
    DEFAULT_VARIANT = "RGB"
    LABEL_DIRS = ("5_Labels_all", "5_Labels_for_participants", "5_Labels_all_noBoundary")


@register
class VaihingenReader(IsprsReader):
    __doc__ = IsprsReader.__doc__
    info = ReaderInfo(
        name="vaihingen",
        title="ISPRS Vaihingen (IRRG tiles, RGB-coded labels; M2B)",
        layout="ROOT/\n  top/top_mosaic_09cm_area1.tif\n  gts_for_participants/top_mosaic_09cm_area1.tif\n"
               "  (or ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE/)",
        license="ISPRS benchmark data: research use, registration required (see the ISPRS page)",
        url="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-vaihingen.aspx",
        kind="captions",
    )
    VARIANTS = {"IRRG": ("top", "")}
    DEFAULT_VARIANT = "IRRG"
    LABEL_DIRS = ("ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE", "gts_for_participants",
                  "gts_eroded_for_participants")
