"""ISPRS 2D semantic labelling: Potsdam and Vaihingen, RGB-coded label tiles -> M2B boxes.

Colours: impervious surfaces (255, 255, 255), building (0, 0, 255), low vegetation (0, 255, 255), tree
(0, 255, 0), car (255, 255, 0), clutter/background (255, 0, 0); the eroded ``noBoundary`` labels add
black (0, 0, 0) for the ignored boundary band. A pixel of any other colour is BadInput (``tolerance``
absorbs small deviations, e.g. labels that went through lossy compression).

Class set: four classes, as RemoteCLIP's Fig. 5 shows them (building, tree, low vegetation, car) and its
Table I counts them (docs/fidelity.md): clutter/background and impervious surfaces
are ignored by default. Clutter is a
catch-all, and impervious surfaces (roads, pavements) cover most of every tile, so a box around them says
little. ``ignore=clutter`` keeps impervious surfaces as a fifth class.

Release layouts (what the ISPRS archives unpack to; docs/fidelity.md cites the sources):

* Images: Potsdam ``2_Ortho_RGB/``, ``3_Ortho_IRRG/``, ``4_Ortho_RGBIR/`` (``top_potsdam_2_10_RGB.tif``,
  ...), or the same files directly in the root; Vaihingen ``top/top_mosaic_09cm_area1.tif``.
* Labels: Potsdam's ``5_Labels_all.zip`` unpacks with no folder, so ``top_potsdam_2_10_label.tif`` sits in
  the root next to the image folders (or in ``5_Labels_all/`` when unpacked into a folder of that name);
  ``_noBoundary`` files are the eroded variant. Vaihingen's ``..._ground_truth_COMPLETE.zip`` unpacks
  with no folder too, and its label tiles carry the images' own names (``top_mosaic_09cm_area1.tif`` in
  the root; ``top_mosaic_09cm_area1_noBoundary.tif`` for the eroded zip).
* ``gts_for_participants/`` (Vaihingen, 16 tiles: the benchmark's training tiles) and
  ``5_Labels_for_participants/`` (Potsdam's older release) are partial ground truth: used only when no
  complete labels are found, and then every tile without a label is an error that says where the
  complete ground truth is, unless ``missing_label=skip`` (skipped tiles are counted in the report).
* A label tile whose image is absent is skipped and counted (the eroded Vaihingen archive carries an
  ``area9`` label with no image).

Image variants: ``variant=None`` (default) reads the variant present, RGB first, then RGBIR, then IRRG.
``"IRRG"`` reads the false-colour tiles as they are (NIR in the red channel): that is how Vaihingen, which
has no blue band, is always used. ``"RGBIR"`` reads the four-band tiles and keeps bands 1-3 (R, G, B).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, ClassVar

from ..types import BadInput, Sample
from .base import (
    CONNECTIVITY,
    MIN_AREA,
    TOLERANCE,
    Option,
    Reader,
    ReaderInfo,
    register,
    source_option,
    split_option,
)
from .files import image_size, load_raster, names_option
from .isprs_labels import (
    DEFAULT_IGNORE,
    ISPRS_CLASSES,
    ISPRS_PALETTE,
    isprs_regions,
    parse_isprs,
)

#: The label tiles' colour coding (:mod:`.isprs_labels`) is offered here too, beside the readers.
__all__ = [
    "DEFAULT_IGNORE",
    "ISPRS_CLASSES",
    "ISPRS_PALETTE",
    "IsprsReader",
    "PotsdamReader",
    "VaihingenReader",
    "isprs_regions",
    "parse_isprs",
]

log = logging.getLogger(__name__)


class IsprsReader(Reader):
    """Shared code of the Potsdam and Vaihingen readers (options: :attr:`OPTIONS`; layouts: module docstring)."""

    VARIANTS: ClassVar[
        dict[str, tuple[str, str]]
    ]  # variant -> (image folder, file-name suffix), preferred first
    TILE: ClassVar[str]  # regular expression of a tile name
    LABEL_SUFFIX: ClassVar[dict[bool, str]]  # eroded? -> label file-name suffix after the tile name
    #: Folders holding the complete ground truth when it was unpacked into a folder (else: the root).
    LABEL_FOLDERS: ClassVar[tuple[str, ...]]
    #: Folders holding part of the ground truth -> what they are and where the rest is.
    PARTIAL_LABELS: ClassVar[dict[str, str]]

    OPTIONS = (
        Option(
            "labels",
            None,
            "folder holding the label tiles, relative to the root (default: found in the release layouts)",
        ),
        Option("eroded", False, "read the eroded ground truth (*_noBoundary) instead of the full one"),
        Option(
            "missing_label",
            "error",
            "an image tile without a label tile: an error, or skipped (counted)",
            ("error", "skip"),
        ),
        Option("ignore", DEFAULT_IGNORE, f"classes that get no boxes, of: {', '.join(ISPRS_CLASSES)}"),
        MIN_AREA,
        CONNECTIVITY,
        TOLERANCE,
        split_option("train", " (ISPRS defines its split by tile lists, not folders)"),
    )

    def _variant_folders(self, variant: str) -> list[Path]:
        folder, suffix = self.VARIANTS[variant]
        # A file name without a suffix (Vaihingen) would match label tiles in the root: only the folder then.
        return [self.root / folder, self.root] if suffix else [self.root / folder]

    def _image_tiles(self) -> tuple[str, dict[str, Path]]:
        """The variant read and its image tiles by tile name."""
        wanted = self.options["variant"]
        for variant in [wanted] if wanted else list(self.VARIANTS):
            suffix = self.VARIANTS[variant][1]
            pattern = re.compile(rf"({self.TILE}){re.escape(suffix)}\.tif", re.IGNORECASE)
            for folder in self._variant_folders(variant):
                tiles = _tiles_in(folder, pattern)
                if tiles:
                    return variant, tiles
        places = " or ".join(
            f"{self.VARIANTS[v][0]}/*{self.VARIANTS[v][1]}.tif"
            for v in ([wanted] if wanted else self.VARIANTS)
        )
        raise BadInput(self.root, f"no image tiles ({places})")

    def _label_tiles(self) -> tuple[dict[str, Path], Path, str | None]:
        """Label tiles by tile name, the folder they are in, and (partial ground truth) what is missing."""
        eroded = bool(self.options["eroded"])
        given = self.options["labels"]
        if given is not None:
            folder = self.trust_dir(self.root / given)  # named by the user
            tiles = _tiles_in(folder, self._label_pattern(eroded))
            if not tiles:
                raise BadInput(folder, f"labels: no {self._label_kind(eroded)} label tiles here")
            return tiles, folder, None
        for folder in [*(self.root / name for name in self.LABEL_FOLDERS), self.root]:
            tiles = _tiles_in(folder, self._label_pattern(eroded))
            if tiles:
                return tiles, folder, None
        for name, note in self.PARTIAL_LABELS.items():
            tiles = _tiles_in(self.root / name, self._label_pattern(eroded))
            if tiles:
                return tiles, self.root / name, note
        other = any(
            _tiles_in(f, self._label_pattern(not eroded))
            for f in [*(self.root / n for n in (*self.LABEL_FOLDERS, *self.PARTIAL_LABELS)), self.root]
        )
        hint = (
            f"; {self._label_kind(not eroded)} ones are there: pass eroded={str(not eroded).lower()}"
            if other
            else ""
        )
        raise BadInput(
            self.root,
            f"no {self._label_kind(eroded)} label tiles (looked in the root and in "
            f"{', '.join(f'{n}/' for n in (*self.LABEL_FOLDERS, *self.PARTIAL_LABELS))}){hint}",
        )

    def _label_pattern(self, eroded: bool) -> re.Pattern:
        return re.compile(rf"({self.TILE}){re.escape(self.LABEL_SUFFIX[eroded])}\.tif", re.IGNORECASE)

    @staticmethod
    def _label_kind(eroded: bool) -> str:
        return "eroded (noBoundary)" if eroded else "full"

    def items(self) -> list[tuple[str, str, str, str | None, str]]:
        """(variant, tile, image, label or None, why the label is missing)."""
        variant, images = self._image_tiles()
        labels, label_folder, partial = self._label_tiles()
        log.info(
            "%s: %d %s image tiles; labels in %s",
            self.root,
            len(images),
            variant,
            "the root" if label_folder == self.root else label_folder.relative_to(self.root),
        )
        self.skipped = [
            BadInput(labels[t], f"label tile has no {variant} image tile; skipped")
            for t in sorted(labels.keys() - images.keys())
        ]
        where = (
            f"{label_folder.relative_to(self.root).as_posix()}/" if label_folder != self.root else "the root"
        )
        missing = f"image tile has no label tile in {where}" + (f" ({partial})" if partial else "")
        out = []
        for tile, image in sorted(images.items()):
            label = labels.get(tile)
            if label is None and self.options["missing_label"] == "skip":
                self.skipped.append(BadInput(image, f"{missing}; skipped", kind="missing-labels"))
                continue
            out.append((variant, tile, str(image), None if label is None else str(label), missing))
        return out

    def read(self, item: tuple[str, str, str, str | None, str]) -> Sample:
        variant, tile, image, label, missing = item
        image_path = self.source_file(image)
        if label is None:
            raise BadInput(image_path, missing, kind="missing-labels")
        label_path = self.source_file(label)
        pixels, nodata = None, None
        if variant == "RGBIR":  # every band: the imagery rule shows the first three unless --bands says
            pixels, nodata = load_raster(image_path)
            if pixels.shape[2] < 3:
                raise BadInput(image_path, f"expected a multi-band RGBIR image, got shape {pixels.shape}")
            size = (pixels.shape[1], pixels.shape[0])
        else:
            size = image_size(image_path)
        regions = isprs_regions(
            label_path,
            size,
            ignore=tuple(names_option(self.options["ignore"])),
            min_area=self.options["min_area"],
            connectivity=self.options["connectivity"],
            tolerance=self.options["tolerance"],
        )
        source = self.options["source"]
        meta: dict[str, Any] = {"file": label_path.relative_to(self.root).as_posix(), "bands": variant}
        return Sample(
            image_id=f"{source}/{tile}",
            source=source,
            image_path=image_path,
            image=pixels,
            nodata=nodata,
            boxes=regions.boxes(),
            split=self.options["split"],
            size=size,
            meta=meta,
            regions=regions,
        )


def _tiles_in(folder: Path, pattern: re.Pattern) -> dict[str, Path]:
    """Files directly in ``folder`` whose whole name matches ``pattern``, by the tile name (group 1)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.iterdir()):
        match = pattern.fullmatch(path.name)
        if match and path.is_file():
            found.setdefault(match.group(1), path)
    return found


@register
class PotsdamReader(IsprsReader):
    __doc__ = IsprsReader.__doc__
    info = ReaderInfo(
        name="potsdam",
        title="ISPRS Potsdam (RGB-coded labels; RGB / IRRG / RGBIR tiles; M2B)",
        layout="ROOT/\n  2_Ortho_RGB/top_potsdam_2_10_RGB.tif   (and/or 3_Ortho_IRRG/*_IRRG.tif, "
        "4_Ortho_RGBIR/*_RGBIR.tif)\n  top_potsdam_2_10_label.tif            (5_Labels_all.zip unpacks "
        "here, no folder;\n                                         or 5_Labels_all/, *_label_noBoundary.tif "
        "with eroded=true)",
        license="ISPRS benchmark data: research use, registration required (see the ISPRS page)",
        url="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-potsdam.aspx",
        kind="captions",
    )
    VARIANTS = {
        "RGB": ("2_Ortho_RGB", "_RGB"),
        "RGBIR": ("4_Ortho_RGBIR", "_RGBIR"),
        "IRRG": ("3_Ortho_IRRG", "_IRRG"),
    }
    TILE = r"top_potsdam_\d+_\d+"
    LABEL_SUFFIX = {False: "_label", True: "_label_noBoundary"}
    LABEL_FOLDERS = ("5_Labels_all", "5_Labels_all_noBoundary")
    PARTIAL_LABELS = {
        "5_Labels_for_participants": "an older release's labels, which may cover only the training tiles; "
        "5_Labels_all.zip has every tile",
        "5_Labels_for_participants_no_Boundary": "an older release's eroded labels, which may cover only the "
        "training tiles; 5_Labels_all_noBoundary.zip has every tile",
    }
    OPTIONS = (
        Option(
            "variant",
            None,
            "image tiles to read: RGB, RGBIR (bands 1-3) or IRRG (default: the one present, in that order)",
            (None, "RGB", "RGBIR", "IRRG"),
        ),
        source_option("potsdam"),
    )


@register
class VaihingenReader(IsprsReader):
    __doc__ = IsprsReader.__doc__
    info = ReaderInfo(
        name="vaihingen",
        title="ISPRS Vaihingen (IRRG tiles, RGB-coded labels; M2B)",
        layout="ROOT/\n  top/top_mosaic_09cm_area1.tif   (from ISPRS_semantic_labeling_Vaihingen.zip)\n"
        "  top_mosaic_09cm_area1.tif       (..._ground_truth_COMPLETE.zip unpacks here, no folder;\n"
        "                                   *_noBoundary.tif from the eroded zip, with eroded=true)\n"
        "  gts_for_participants/           (16 training tiles only: never taken for the complete "
        "ground truth)",
        license="ISPRS benchmark data: research use, registration required (see the ISPRS page)",
        url="https://www.isprs.org/education/benchmarks/UrbanSemLab/2d-sem-label-vaihingen.aspx",
        kind="captions",
    )
    VARIANTS = {"IRRG": ("top", "")}
    TILE = r"top_mosaic_09cm_area\d+"
    LABEL_SUFFIX = {False: "", True: "_noBoundary"}
    LABEL_FOLDERS = (
        "ISPRS_semantic_labeling_Vaihingen_ground_truth_COMPLETE",
        "ISPRS_semantic_labeling_Vaihingen_ground_truth_eroded_COMPLETE",
    )
    _PARTIAL = (
        "the 16 training tiles of the benchmark, not the 33 labelled tiles; the complete ground truth "
        "is ISPRS_semantic_labeling_Vaihingen_ground_truth{}_COMPLETE.zip: unpack it into the root"
    )
    PARTIAL_LABELS = {
        "gts_for_participants": _PARTIAL.format(""),
        "gts_eroded_for_participants": _PARTIAL.format("_eroded"),
    }
    OPTIONS = (
        Option("variant", "IRRG", "image tiles to read (Vaihingen has only IRRG: NIR, R, G)", ("IRRG",)),
        source_option("vaihingen"),
    )
