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

    @property
    def write(self) -> Callable[..., Truth]:
        """``write(out_dir, n, seed=0, size=default_size, overwrite=False) -> Truth``."""
        fn = getattr(importlib.import_module(f"rs_synth.writers.{self.module}"), self.function)
        return functools.partial(fn, **dict(self.kwargs)) if self.kwargs else fn


_F = [
    Format("dota", "dota", "write", 1024, "DOTA v1.0 labelTxt (CRLF, imagesource/gsd header) + images/*.png"),
    Format("counting", "counting", "write", 256,
           "RemoteCount-style counting scenes: 1-10 objects of one of 13 classes, as DOTA labelTxt"),
    Format("dior", "voc", "write_dior", 800, "DIOR Pascal-VOC XML (JPEGImages-trainval/test, Annotations, ImageSets)"),
    Format("hrrsd", "voc", "write_hrrsd", 1024, "HRRSD Pascal-VOC XML under OPT2017/ (class names with spaces)"),
    Format("rsod", "voc", "write_rsod", 1000, "RSOD per-class folders with VOC XML (aircraft, oiltank, ...)"),
    Format("rsicd", "captions", "write", 256,
           "RSICD Karpathy caption JSON (train/val/test, 5 captions) + rsicd_precomp text files",
           (("flavour", "rsicd"),)),
    Format("rsitmd", "captions", "write", 256, "RSITMD-style caption JSON (sentence case) + precomp files",
           (("flavour", "rsitmd"),)),
    Format("ucm-captions", "captions", "write", 256, "UCM-captions-style JSON (numbered .tif) + precomp files",
           (("flavour", "ucm"),)),
    Format("imagefolder", "imagefolder", "write", 256,
           "ImageFolder classification tree, raw-style class folder names (denseresidential, golf_course, Airport)"),
]
FORMATS: dict[str, Format] = {f.name: f for f in _F}
