"""HRSC2016 ship detection: its own ``<HRSC_Image>`` XML.

Each ``<HRSC_Object>`` has a horizontal box (``box_xmin .. box_ymax``) and a rotated one (``mbox_cx
mbox_cy mbox_w mbox_h mbox_ang``, angle in radians). The horizontal box is the annotated one and is used by
default (``boxes="hbb"``); ``boxes="obb"`` takes the axis-aligned hull of the rotated box instead. An
object with an empty horizontal box falls back to its rotated box.

Classes: ``Class_ID`` is a numeric id into HRSC2016's three-level ship hierarchy (``100000001`` ship,
``100000002`` aircraft carrier, ``100000003`` warcraft, ``100000004`` merchant ship, then ship types). The
fine levels are ship types and hull names that mean nothing to a caption reader, so every object is
labelled "ship" (what HRSC2016's level-1 task and RemoteCLIP's DET-10 use); the raw ids stay in
``meta["class_ids"]``, aligned with the boxes, for anyone who wants a finer table.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..types import BadInput, Box
from .base import Alias, Option, ReaderInfo, register, source_option
from .files import SPLITS
from .voc import ANNOTATIONS, IMAGES, VocReader, XmlDoc, parse_difficult, rotated_box

_HBB = ("box_xmin", "box_ymin", "box_xmax", "box_ymax")
_OBB = ("mbox_cx", "mbox_cy", "mbox_w", "mbox_h", "mbox_ang")


def parse_hrsc(
    doc: XmlDoc, *, use_obb: bool = False, drop_difficult: bool = False, label: str = "ship"
) -> tuple[list[Box], tuple[int, int] | None, dict[str, Any]]:
    """Boxes, stated (width, height) and meta (``class_ids``, ``gsd``) of one HRSC2016 annotation."""
    root = doc.root
    if root.tag != "HRSC_Image":
        raise BadInput(doc.path, f"root element is <{root.tag}>, expected <HRSC_Image>", doc.line(root))
    size = doc.size(root, "Img_SizeWidth", "Img_SizeHeight")
    boxes, class_ids = [], []
    objects = root.find("HRSC_Objects")
    for obj in objects.findall("HRSC_Object") if objects is not None else []:
        has_hbb = all(doc.text(obj, t) is not None for t in _HBB)
        if has_hbb and not use_obb:
            coords = tuple(doc.number(obj, t) for t in _HBB)
        elif doc.text(obj, "mbox_cx") is not None:
            coords = rotated_box(*(doc.number(obj, t) for t in _OBB))
        else:
            raise BadInput(
                doc.path, "<HRSC_Object> has neither box_xmin..box_ymax nor mbox_* values", doc.line(obj)
            )
        difficult = parse_difficult(doc, obj)
        if difficult and drop_difficult:
            continue
        boxes.append(Box(label, *coords, difficult=difficult))
        class_ids.append(doc.text(obj, "Class_ID"))
    meta: dict[str, Any] = {"class_ids": class_ids}
    resolution = doc.text(root, "Img_Resolution")
    if resolution is not None:
        meta["gsd"] = doc.number(root, "Img_Resolution")
    return boxes, size, meta


@register
class HrscReader(VocReader):
    """HRSC2016 ``Annotations/*.xml`` + ``AllImages/*.bmp`` (options: :attr:`OPTIONS`).

    Splits come from ``ImageSets/{train,val,test,trainval}.txt`` or from the release's ``Train/`` and
    ``Test/`` folders.
    """

    info = ReaderInfo(
        name="hrsc",
        title="HRSC2016 (ship detection, <HRSC_Image> XML)",
        layout="ROOT/\n  FullDataSet/Annotations/100000001.xml\n  FullDataSet/AllImages/100000001.bmp\n"
        "  ImageSets/{trainval,test}.txt\n(or the release's Train/ and Test/ with Annotations/, AllImages/)",
        license="HRSC2016: research use (see the dataset page)",
        url="https://www.kaggle.com/datasets/guofeng/hrsc2016",
        kind="captions",
        aliases=(Alias("hrsc2016"),),  # rs-synth's name for the format
    )
    OPTIONS = (
        ANNOTATIONS.defaulting_to(("FullDataSet/Annotations", "*/Annotations", "Annotations")),
        IMAGES.defaulting_to(("FullDataSet/AllImages", "*/AllImages", "AllImages")),
        source_option("hrsc"),
        Option(
            "boxes",
            "hbb",
            "hbb: the annotated horizontal box; obb: the hull of the rotated box",
            ("hbb", "obb"),
        ),
    )
    SPLIT_LISTS: ClassVar[tuple[tuple[str, str], ...]] = (
        *((f"ImageSets/{s}.txt", s) for s in SPLITS),
        ("ImageSets/trainval.txt", "train"),
    )

    def parse(self, doc: XmlDoc) -> tuple[list[Box], tuple[int, int] | None, dict[str, Any]]:
        return parse_hrsc(
            doc, use_obb=self.options["boxes"] == "obb", drop_difficult=self.options["drop_difficult"]
        )

    def image_name(self, doc: XmlDoc) -> tuple[str | None, int | None]:
        name, fmt = doc.text(doc.root, "Img_FileName"), doc.text(doc.root, "Img_FileFmt")
        return (f"{name}.{fmt}" if name and fmt else None), doc.line(doc.root.find("Img_FileName"))
