"""CARPK and PUCPR+ (Hsieh et al., ICCV 2017): cars in parking lots, drone and camera views.

Layout as released: ``<name>_devkit/data/Images/<id>.png``, ``Annotations/<id>.txt`` and
``ImageSets/{train,test}.txt`` (one image id per line). One car per annotation line::

    x1 y1 x2 y2 class

``x1 y1`` top-left and ``x2 y2`` bottom-right corner in pixels, read as box edges (no +1); ``class`` is
always 1 (car). Splits come from ``ImageSets``; an image listed in neither file (or a release without
``ImageSets``) goes to ``split`` (default "train").

The release as unpacked holds two devkits, ``CARPK_devkit/`` and ``PUCPR+_devkit/``; given the folder
holding them, the ``carpk`` reader reads both (PUCPR+ rows get ids ``carpk/pucpr+/<id>``). That is the
RemoteCLIP paper's "CARPK" (Table I: 1,568 images, 106,690 boxes): CARPK alone has 1,448 images and
89,777 cars, with PUCPR+'s 125 images and 16,456 cars 1,573 and 106,233 (Hsieh et al.'s counts), within
5 images and 0.4% of boxes of Table I. Given one devkit (or its ``data/``), it reads that one.

Bad input (per item): a line without five fields, a non-numeric value, a class other than 1, an
annotation without an image or an image without an annotation file, an ImageSets id with neither.
"""

from __future__ import annotations

from pathlib import Path

from ..types import BadInput, Box, Sample
from .base import Reader, ReaderInfo, parse_float, register, split_option
from .files import index_images, read_text

SPLIT_FILES = ("train", "test")
DEVKITS = (("CARPK_devkit", ""), ("PUCPR+_devkit", "pucpr+/"))  # the release's folders, their id prefixes


def parse_carpk(text: str, path: Path, label: str = "car") -> list[Box]:
    """The boxes of one CARPK / PUCPR+ annotation file."""
    boxes = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            raise BadInput(path, f"expected 'x1 y1 x2 y2 class', got {len(fields)} field(s)", lineno)
        x1, y1, x2, y2 = (parse_float(f, path, lineno) for f in fields[:4])
        if parse_float(fields[4], path, lineno, "class id") != 1:
            raise BadInput(path, f"unknown class id {fields[4]!r}; the only class is 1 ({label})", lineno)
        boxes.append(Box(label, x1, y1, x2, y2))
    return boxes


@register
class CarpkReader(Reader):
    """CARPK ``data/{Images,Annotations,ImageSets}`` (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="carpk",
        title="CARPK drone parking-lot car counting (per-image 'x1 y1 x2 y2 class' text files)",
        layout=(
            "CARPK_devkit/  (or its data/ folder)\n  data/\n    Images/20160331_NTU_00001.png\n"
            "    Annotations/20160331_NTU_00001.txt   lines 'x1 y1 x2 y2 1'\n"
            "    ImageSets/train.txt, test.txt        image ids, one a line"
        ),
        license="research use (no licence text in the release); cite Hsieh et al. 2017",
        url="https://lafi.github.io/LPN/",
        kind="captions",
    )
    OPTIONS = (split_option("train", " of images in no ImageSets list"),)

    def _data_roots(self) -> list[tuple[Path, str]]:
        """The data folders to read with their id prefixes: both devkits of the release, or the one given."""
        devkits = [(self.root / name, prefix) for name, prefix in DEVKITS if (self.root / name).is_dir()]
        roots = []
        for root, prefix in devkits or [(self.root, "")]:
            for candidate in (root, root / "data"):
                if (candidate / "Annotations").is_dir() or (candidate / "Images").is_dir():
                    roots.append((candidate, prefix))
                    break
            else:
                raise BadInput(root, "no Annotations/ or Images/ folder (nor data/ with them)")
        return roots

    def items(self) -> list[tuple[str, str, str | None, str | None]]:
        out = []
        for data, prefix in self._data_roots():
            out += [(prefix + stem, *rest) for stem, *rest in self._items(data)]
        if not out:
            raise BadInput(self.root, "no images and no annotation files")
        return out

    def _items(self, data: Path) -> list[tuple[str, str, str | None, str | None]]:
        images = index_images(data / "Images")
        labels = {p.stem: p for p in sorted((data / "Annotations").glob("*.txt"))}
        split_of: dict[str, str] = {}
        for split in SPLIT_FILES:
            listing = data / "ImageSets" / f"{split}.txt"
            if listing.exists():
                for lineno, line in enumerate(read_text(self.source_file(listing)).splitlines(), start=1):
                    stem = line.strip()
                    if not stem:
                        continue
                    if stem in split_of and split_of[stem] != split:
                        raise BadInput(listing, f"{stem} is also listed in {split_of[stem]}.txt", lineno)
                    split_of[stem] = split
        out = []
        for stem in sorted(images.keys() | labels.keys() | split_of.keys()):
            image, label = images.get(stem), labels.get(stem)
            out.append(
                (
                    stem,
                    split_of.get(stem, self.options["split"]),
                    str(image) if image else None,
                    str(label) if label else None,
                )
            )
        return out

    def read(self, item: tuple[str, str, str | None, str | None]) -> Sample:
        stem, split, image, label = item
        if image is None and label is None:
            data = dict((prefix, d) for d, prefix in self._data_roots())[stem[: stem.find("/") + 1]]
            raise BadInput(
                data / "ImageSets" / f"{split}.txt",
                f"lists {stem.split('/')[-1]}, which has no image and no annotation",
            )
        if image is None:
            raise BadInput(label, f"annotation has no image Images/{Path(label).stem}.*")
        if label is None:
            raise BadInput(image, f"image has no annotation file Annotations/{Path(image).stem}.txt")
        name = self.info.name
        return Sample(
            image_id=f"{name}/{stem}",
            source=name,
            image_path=Path(image),
            boxes=parse_carpk(read_text(self.source_file(label)), Path(label)),
            split=split,
            meta={"file": Path(image).name},
        )


@register
class PucprReader(CarpkReader):
    """PUCPR+ ships in CARPK's layout and label format (camera views of one parking lot)."""

    info = ReaderInfo(
        name="pucpr+",
        title="PUCPR+ parking-lot cars (CARPK's layout and 'x1 y1 x2 y2 class' format)",
        layout=(
            "PUCPR+_devkit/  (or its data/ folder)\n  data/\n    Images/<id>.jpg\n"
            "    Annotations/<id>.txt   lines 'x1 y1 x2 y2 1'\n    ImageSets/train.txt, test.txt"
        ),
        license="research use (no licence text in the release); cite Hsieh et al. 2017 and PKLot",
        url="https://lafi.github.io/LPN/",
        kind="captions",
    )
