"""The published VOC-XML detection sets: DIOR (and DIOR-R's oriented boxes), HRRSD and RSOD, each the
generic :class:`~rs_annotate.readers.voc.VocReader` with its release's folders, class table and metadata
(the parsing rules are in :mod:`rs_annotate.readers.voc`)."""

from __future__ import annotations

from ..classnames import DIOR, DIOR_CLASSES, HRRSD, HRRSD_CLASSES, RSOD, RSOD_CLASSES
from .base import EXTRA_CLASSES, ReaderInfo, register, source_option
from .voc import ANNOTATIONS, IMAGES, VocReader


@register
class DiorReader(VocReader):
    __doc__ = VocReader.__doc__
    info = ReaderInfo(
        name="dior",
        title="DIOR (horizontal boxes; falls back to DIOR-R oriented boxes when only those exist)",
        layout="ROOT/\n  Annotations/00001.xml  (or 'Annotations/Horizontal Bounding Boxes/')\n"
        "  JPEGImages-trainval/00001.jpg\n  JPEGImages-test/11726.jpg\n  ImageSets/Main/{train,val,test}.txt",
        license="DIOR: academic research use (see the DIOR page)",
        url="https://gcheng-nwpu.github.io/#Datasets",
        kind="captions",
    )
    OPTIONS = (
        ANNOTATIONS.defaulting_to(
            ("Annotations/Horizontal Bounding Boxes", "Annotations", "Annotations/Oriented Bounding Boxes")
        ),
        IMAGES.defaulting_to(("JPEGImages-trainval", "JPEGImages-test", "JPEGImages", "JPEGImage")),
        source_option("dior"),
        EXTRA_CLASSES,
    )
    TABLE = DIOR
    CLASSES = DIOR_CLASSES


@register
class DiorRReader(DiorReader):
    __doc__ = VocReader.__doc__
    info = ReaderInfo(
        name="dior-r",
        title="DIOR-R (oriented boxes, <robndbox> corners -> axis-aligned)",
        layout="ROOT/\n  Annotations/Oriented Bounding Boxes/00001.xml\n  JPEGImages-trainval/00001.jpg\n"
        "  JPEGImages-test/\n  ImageSets/Main/{train,val,test}.txt",
        license="DIOR-R: academic research use (see the DIOR page)",
        url="https://gcheng-nwpu.github.io/#Datasets",
        kind="captions",
    )
    OPTIONS = (ANNOTATIONS.defaulting_to(("Annotations/Oriented Bounding Boxes",)),)


@register
class HrrsdReader(VocReader):
    __doc__ = VocReader.__doc__
    info = ReaderInfo(
        name="hrrsd",
        title="HRRSD (TGRS-HRRSD-Dataset, VOC XML)",
        layout="ROOT/\n  OPT2017/Annotations/00002.xml\n  OPT2017/JPEGImages/00002.jpg\n"
        "  OPT2017/ImageSets/Main/{train,val,test}.txt",
        license="Mulan Permissive Software License v1 (repository); see the dataset page",
        url="https://github.com/CrazyStoneonRoad/TGRS-HRRSD-Dataset",
        kind="captions",
    )
    OPTIONS = (
        ANNOTATIONS.defaulting_to(("OPT2017/Annotations", "Annotations")),
        IMAGES.defaulting_to(("OPT2017/JPEGImages", "JPEGImages")),
        source_option("hrrsd"),
        EXTRA_CLASSES,
    )
    TABLE = HRRSD
    CLASSES = HRRSD_CLASSES


@register
class RsodReader(VocReader):
    __doc__ = VocReader.__doc__
    info = ReaderInfo(
        name="rsod",
        title="RSOD (aircraft, oiltank, overpass, playground; one folder per class)",
        layout="ROOT/\n  aircraft/Annotation/xml/aircraft_1.xml\n  aircraft/JPEGImages/aircraft_1.jpg\n"
        "  oiltank/ ...  overpass/ ...  playground/ ...",
        license="RSOD: research use (see the dataset page)",
        url="https://github.com/RSIA-LIESMARS-WHU/RSOD-Dataset-",
        kind="captions",
    )
    OPTIONS = (
        ANNOTATIONS.defaulting_to(("*/Annotation/xml", "*/Annotations")),
        IMAGES.defaulting_to(("*/JPEGImages",)),
        source_option("rsod"),
        EXTRA_CLASSES,
    )
    TABLE = RSOD
    CLASSES = RSOD_CLASSES
