"""Stanford Drone Dataset (Robicquet et al., ECCV 2016): campus videos with tracked pedestrians, bikers, ...

Layout as released: ``annotations/<scene>/video<k>/annotations.txt`` and the video
``videos/<scene>/video<k>/video.mov``. One row per track and frame, space-separated::

    track_id xmin ymin xmax ymax frame lost occluded generated "label"

``frame`` is the 0-based video frame; the box is in that frame's pixels (edges, no +1); ``lost`` = 1 when
the agent is outside the view (those rows are dropped, counted in ``meta["dropped"]``); ``occluded`` and
``generated`` (interpolated) rows are kept; labels (Pedestrian, Biker, Skater, Cart, Car, Bus) are
lower-cased. Rows are sorted by track, not by frame.

Frames are sampled every ``stride`` frames (default 30, about one a second) from the first to the last
annotated frame and decoded with OpenCV; each becomes a Sample whose ``image`` is the RGB frame.
Consecutive samples are often near-identical: that is what the pipeline's pHash de-duplication removes.
Decoding is sequential within a process (no seeking), so the frames are exact and identical for any
number of workers. SDD ships no split: every frame goes to ``split`` (default "train").

Bad input: a malformed row (field count, non-numeric value, unquoted label) stops the listing with file and
line; a missing video stops it too (``missing_video="skip"`` skips that video and records it in
:attr:`SddReader.skipped`); a frame the video does not have (it ends early or cannot be decoded) is a
:class:`BadInput` for that frame.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..classnames import SDD_CLASSES, check_class, normalize
from ..types import BadInput, Box, Sample
from .base import EXTRA_CLASSES, Option, Reader, ReaderInfo, parse_float, register, split_option
from .files import read_text, regular_file

VIDEO_SUFFIXES = (".mov", ".mp4", ".avi", ".mkv")
Row = tuple[str, float, float, float, float]  # label, x0, y0, x1, y1


def parse_sdd(
    text: str, path: Path, classes: frozenset[str] | None = SDD_CLASSES
) -> tuple[dict[int, list[Row]], dict[int, int]]:
    """Visible boxes per frame and the number of ``lost`` rows per frame, of one annotations.txt (labels as
    written; one outside ``classes`` is BadInput)."""
    boxes: dict[int, list[Row]] = {}
    lost: dict[int, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, quote, rest = line.partition('"')
        label = rest.rstrip().removesuffix('"')
        fields = head.split()
        if not quote or not label or '"' in label:
            raise BadInput(path, 'expected a quoted label at the end of the row ("Pedestrian")', lineno)
        if len(fields) != 9:
            raise BadInput(
                path,
                "expected 'track_id xmin ymin xmax ymax frame lost occluded generated \"label\"', "
                f"got {len(fields)} field(s) before the label",
                lineno,
            )
        check_class(label, path, lineno, classes=classes)
        x0, y0, x1, y1 = (parse_float(f, path, lineno) for f in fields[1:5])
        flags = []
        for token, what in zip(fields[5:], ("frame", "lost", "occluded", "generated")):
            if not token.isdigit():
                raise BadInput(path, f"{what} {token!r} is not a non-negative integer", lineno)
            flags.append(int(token))
        frame, is_lost = flags[0], flags[1]
        if is_lost:
            lost[frame] = lost.get(frame, 0) + 1
        else:
            boxes.setdefault(frame, []).append((label, x0, y0, x1, y1))
    return boxes, lost


class _VideoCursor:
    """One open video per process, read forward; reopened from the start only to go back."""

    path: str | None = None
    cap: Any = None
    next_frame = 0

    @classmethod
    def frame(cls, path: str, index: int, ann: str) -> np.ndarray:
        if cls.path != path or index < cls.next_frame:
            if cls.cap is not None:
                cls.cap.release()
            cls.path, cls.cap, cls.next_frame = path, cv2.VideoCapture(path), 0
            if not cls.cap.isOpened():
                cls.path, cls.cap = None, None
                raise BadInput(path, "OpenCV cannot open this video")
        while cls.next_frame < index:
            if not cls.cap.grab():
                cls._missing(index, ann)
            cls.next_frame += 1
        ok, bgr = cls.cap.read()
        if not ok or bgr is None:
            cls._missing(index, ann)
        cls.next_frame += 1
        return np.ascontiguousarray(bgr[..., ::-1])

    @classmethod
    def _missing(cls, index: int, ann: str) -> None:
        path, last = cls.path, cls.next_frame
        cls.cap.release()
        cls.path, cls.cap, cls.next_frame = None, None, 0
        raise BadInput(
            path,
            f"frame {index} is missing: the video ends (or stops decoding) at frame {last}, "
            f"but {ann} annotates it",
        )


@register
class SddReader(Reader):
    """SDD annotation files and their videos (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="sdd",
        title="Stanford Drone Dataset (per-video annotations.txt; frames sampled from the videos with OpenCV)",
        layout=(
            "ROOT/\n  annotations/<scene>/video<k>/annotations.txt   rows 'track_id xmin ymin xmax ymax frame "
            'lost occluded generated "label"\'\n  videos/<scene>/video<k>/video.mov\n'
            "(lost rows dropped, counted in meta.dropped)"
        ),
        license="CC BY-NC-SA 3.0 (non-commercial)",
        url="https://cvgl.stanford.edu/projects/uav_data/",
        kind="captions",
    )
    OPTIONS = (
        Option("stride", 30, "sample every stride-th frame (30: about one a second)"),
        Option(
            "video_dir",
            "videos",
            "video folder below the root (a video beside its annotations.txt is found too)",
        ),
        Option(
            "missing_video",
            "error",
            "annotations without a video: an error, or skipped (counted)",
            ("error", "skip"),
        ),
        split_option("train", " (SDD ships no split)"),
        EXTRA_CLASSES,
    )
    CLASSES = SDD_CLASSES

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        self.stride = int(self.options["stride"])
        if self.stride < 1:
            raise ValueError(f"stride must be >= 1, not {self.stride}")
        self.video_dir = self.root / self.options["video_dir"]
        if "video_dir" in options:
            self.trust_dir(self.video_dir)  # named by the user

    def _annotation_files(self) -> list[Path]:
        found = sorted(
            Path(top) / "annotations.txt"
            for top, _, files in os.walk(self.root)
            if "annotations.txt" in files
        )
        if not found:
            raise BadInput(self.root, "no annotations.txt below the root")
        return found

    def _rel(self, ann: Path) -> Path:
        """``<scene>/video<k>`` of an annotations.txt, with or without the ``annotations/`` level."""
        base = self.root / "annotations"
        return ann.parent.relative_to(base if ann.is_relative_to(base) else self.root)

    def _video_for(self, ann: Path) -> Path | None:
        for folder in (self.video_dir / self._rel(ann), ann.parent):
            if folder.is_dir():
                videos = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
                if videos:
                    return videos[0]
        return None

    def items(self) -> Sequence[tuple[str, str, str, int, tuple[Row, ...], int]]:
        out = []
        self.skipped = []  # listing again must not count a skipped video twice
        for ann in self._annotation_files():
            video = self._video_for(ann)
            if video is None:
                problem = BadInput(
                    ann, f"no video for these annotations (looked in {self.video_dir} and beside it)"
                )
                if self.options["missing_video"] != "skip":
                    raise problem
                self.skipped.append(problem)
                continue
            boxes, lost = parse_sdd(read_text(self.source_file(ann)), ann, self.classes)
            frames = boxes.keys() | lost.keys()
            if not frames:
                continue
            name = self._rel(ann).as_posix()
            for frame in range(min(frames), max(frames) + 1, self.stride):
                out.append(
                    (str(video), str(ann), name, frame, tuple(boxes.get(frame, ())), lost.get(frame, 0))
                )
        return out

    def read(self, item: tuple[str, str, str, int, tuple[Row, ...], int]) -> Sample:
        video, ann, name, frame, rows, n_lost = item
        image = _VideoCursor.frame(str(regular_file(self.source_file(video))), frame, ann)
        return Sample(
            image_id=f"sdd/{name}/{frame:06d}",
            source="sdd",
            image=image,
            boxes=[Box(normalize(label), x0, y0, x1, y1) for label, x0, y0, x1, y1 in rows],
            split=self.options["split"],
            size=(int(image.shape[1]), int(image.shape[0])),
            meta={"video": name, "frame": frame, "dropped": {"lost": n_lost} if n_lost else {}},
        )
