"""The format registry the CLI and other packages use: ``FORMATS[name].write(out_dir, n, seed, size)``."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from .truth import Truth


@dataclass(frozen=True)
class Format:
    name: str
    module: str  # rs_synth.writers.<module>
    function: str
    default_size: int
    description: str
    kwargs: tuple[tuple[str, object], ...] = ()
    plants: bool = False  # the writer takes plant=, plant_n= and duplicates= (rs_synth.plant)

    @property
    def write(self) -> Callable[..., Truth]:
        """``write(out_dir, n, seed=0, size=default_size, overwrite=False) -> Truth``."""
        fn = getattr(importlib.import_module(f"rs_synth.writers.{self.module}"), self.function)
        return functools.partial(fn, **dict(self.kwargs)) if self.kwargs else fn


_F = [
    Format(
        "dota",
        "dota",
        "write",
        1024,
        "DOTA v1.0 labelTxt (CRLF, imagesource/gsd header) + images/*.png",
        plants=True,
    ),
    Format(
        "counting",
        "counting",
        "write",
        256,
        "RemoteCount-style counting scenes: 1-10 objects of one of 13 classes, as DOTA labelTxt",
    ),
    Format(
        "dior",
        "voc",
        "write_dior",
        800,
        "DIOR Pascal-VOC XML (JPEGImages-trainval/test, Annotations, ImageSets)",
    ),
    Format(
        "hrrsd", "voc", "write_hrrsd", 1024, "HRRSD Pascal-VOC XML under OPT2017/ (class names with spaces)"
    ),
    Format("rsod", "voc", "write_rsod", 1000, "RSOD per-class folders with VOC XML (aircraft, oiltank, ...)"),
    Format(
        "rsicd",
        "captions",
        "write",
        256,
        "RSICD Karpathy caption JSON (train/val/test, 5 captions) + rsicd_precomp text files",
        (("flavour", "rsicd"),),
    ),
    Format(
        "rsitmd",
        "captions",
        "write",
        256,
        "RSITMD-style caption JSON (sentence case) + precomp files",
        (("flavour", "rsitmd"),),
    ),
    Format(
        "ucm-captions",
        "captions",
        "write",
        256,
        "UCM-captions-style JSON (numbered .tif) + precomp files",
        (("flavour", "ucm"),),
    ),
    Format(
        "imagefolder",
        "imagefolder",
        "write",
        256,
        "ImageFolder classification tree, raw-style class folder names (denseresidential, golf_course, Airport)",
    ),
    Format(
        "loveda",
        "segmentation",
        "write_loveda",
        1024,
        "LoveDA index masks: {Train,Val}/{Urban,Rural}/{images_png,masks_png} (0 no-data .. 7 agriculture)",
    ),
    Format(
        "potsdam",
        "segmentation",
        "write_potsdam",
        1024,
        "ISPRS Potsdam RGB/IRRG/RGBIR TIFF tiles + RGB-coded labels (5_Labels_all)",
    ),
    Format(
        "vaihingen",
        "segmentation",
        "write_vaihingen",
        1024,
        "ISPRS Vaihingen IRRG TIFF tiles (top/) + RGB-coded labels (gts_for_participants/)",
    ),
    Format(
        "isaid",
        "isaid",
        "write",
        1024,
        "iSAID images + _instance_color_RGB.png (devkit palette) + _instance_id_RGB.png (R+256G+65536B)",
    ),
    Format(
        "hrsc2016", "hrsc", "write", 1024, "HRSC2016 <HRSC_Image> XML with rotated boxes + AllImages/*.bmp"
    ),
    Format(
        "levir",
        "levir",
        "write",
        800,
        "LEVIR imageWithLabel/*.jpg + *.txt ('class x1 y1 x2 y2', 1 plane 2 ship 3 oil tank)",
    ),
    Format(
        "auair",
        "drone",
        "write_auair",
        1920,
        "AU-AIR single annotations.json (bbox top/left/height/width/class)",
    ),
    Format(
        "carpk",
        "drone",
        "write_carpk",
        1280,
        "CARPK parking lots: Images/*.png + Annotations/*.txt 'x1 y1 x2 y2 1'",
    ),
    Format(
        "visdrone",
        "drone",
        "write_visdrone",
        1360,
        "VisDrone-DET 'x,y,w,h,score,category,truncation,occlusion' (0 ignored regions .. 11 others)",
    ),
    Format(
        "sdd",
        "sdd",
        "write",
        640,
        "Stanford Drone: annotations.txt tracks + video.mov (needs opencv); --n = number of videos",
    ),
]
FORMATS: dict[str, Format] = {f.name: f for f in _F}
