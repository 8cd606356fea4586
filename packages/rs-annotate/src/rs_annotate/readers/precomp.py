"""Retrieval sets in the ``*_precomp`` text layout (AMFMN, GaLR and most RS retrieval papers' releases).

Per split two line-aligned text files: line *i* of ``<split>_caps.txt`` is a caption of the image named
on line *i* of ``<split>_filename.txt``; each file name repeats on consecutive lines, once per caption
(5 for RSICD, RSITMD and UCM-captions). Consecutive lines with the same name form one image, captions
kept in file order. The images themselves are not part of the layout: they live in ``image_dir``.

Bad input: files of different lengths, an empty caption or file name, a name that comes back after other
names (the alignment is broken somewhere), a group with other than ``captions_per_image`` captions:
:class:`BadInput` naming the file and line, raised while listing items. An image file that does not exist
is a :class:`BadInput` for that image alone (skippable).

Captions are cleaned as the RET-3 JSON reader cleans them (whitespace only; RSICD's space before the
full stop goes), so a set reads the same from either layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..types import BadInput, Sample
from .base import Option, Reader, ReaderInfo, register, source_option
from .files import SPLITS, names_option, read_text
from .ret3 import clean_caption


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in read_text(path).splitlines()]


def group_captions(
    caps_path: Path, names_path: Path, captions_per_image: int | None = 5
) -> list[tuple[str, int, list[str]]]:
    """``(file name, first line, captions)`` per image, in file order."""
    caps, names = _lines(caps_path), _lines(names_path)
    # A final empty line is a trailing newline in editors that add one; anything else must align.
    while caps and names and not caps[-1] and not names[-1]:
        caps.pop()
        names.pop()
    if len(caps) != len(names):
        raise BadInput(
            caps_path,
            f"has {len(caps)} lines but {names_path.name} has {len(names)}; they must be line-aligned",
        )
    groups: list[tuple[str, int, list[str]]] = []
    seen: dict[str, int] = {}
    for i, (cap, name) in enumerate(zip(caps, names), start=1):
        if not name:
            raise BadInput(names_path, "empty file name", i)
        if not cap:
            raise BadInput(caps_path, f"empty caption (for {name})", i)
        if groups and groups[-1][0] == name:
            groups[-1][2].append(cap)
            continue
        if name in seen:
            raise BadInput(
                names_path,
                f"{name} appears again after other names (first at line {seen[name]}); "
                "each image's captions must be on consecutive lines",
                i,
            )
        seen[name] = i
        groups.append((name, i, [cap]))
    if captions_per_image is not None:
        for name, line, captions in groups:
            if len(captions) != captions_per_image:
                raise BadInput(
                    names_path,
                    f"{name} has {len(captions)} captions, expected {captions_per_image} "
                    "(set captions_per_image=None to accept any number)",
                    line,
                )
    return groups


@register
class PrecompReader(Reader):
    """``<split>_caps.txt`` + ``<split>_filename.txt`` pairs and an image folder (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="precomp",
        title="Retrieval captions in the *_precomp text layout (RSICD, RSITMD, UCM-captions as AMFMN ships them)",
        layout=(
            "rsitmd_precomp/\n  test_caps.txt       one caption per line\n"
            "  test_filename.txt   the image of each caption, repeated on 5 consecutive lines\n"
            "  train_caps.txt, train_filename.txt (optional; val_* too)\n"
            "  images/             the image files"
        ),
        license="per dataset: RSICD, RSITMD and UCM-captions are released for research use; "
        "the precomp text files carry no licence",
        url="https://github.com/xiaoyuan1996/AMFMN (precomp files); images from each dataset's own release",
        kind="captions",
    )
    OPTIONS = (
        Option("image_dir", None, "where the images are (default: ROOT/images if it exists, else ROOT)"),
        Option(
            "splits",
            None,
            "splits to read, e.g. test,val (default: every one of train/val/test whose two files exist)",
        ),
        Option("captions_per_image", 5, "captions each image must have (None: any number)"),
        source_option(None, "the root folder's name without _precomp, e.g. rsitmd"),
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        image_dir = self.options["image_dir"]
        if image_dir is not None:
            self.image_dir = Path(image_dir)
            if not self.image_dir.is_absolute():
                self.image_dir = self.root / self.image_dir
            if not self.image_dir.is_dir():
                raise BadInput(self.image_dir, "image_dir is not a directory")
            self.trust_dir(self.image_dir)  # named by the user
        else:
            self.image_dir = self.root / "images" if (self.root / "images").is_dir() else self.root
        self.captions_per_image = self.options["captions_per_image"]
        source = self.options["source"] or self.root.resolve().name.removesuffix("_precomp")
        self.source = str(source).lower()
        found = [s for s in SPLITS if any(p.exists() for p in self._files(s))]
        self.splits = names_option(self.options["splits"]) if self.options["splits"] else found
        if not self.splits:
            raise BadInput(self.root, "no <split>_caps.txt + <split>_filename.txt pair (train, val or test)")
        for split in self.splits:
            caps_path, names_path = self._files(split)
            for path in (caps_path, names_path):
                if not path.is_file():
                    raise BadInput(
                        path, f"missing: split {split!r} needs both {caps_path.name} and {names_path.name}"
                    )

    def _files(self, split: str) -> tuple[Path, Path]:
        return self.root / f"{split}_caps.txt", self.root / f"{split}_filename.txt"

    def items(self) -> Sequence[tuple[str, str, str, int, tuple[str, ...]]]:
        items = []
        first_split: dict[str, str] = {}
        for split in self.splits:
            caps_path, names_path = self._files(split)
            for name, line, captions in group_captions(
                self.source_file(caps_path), self.source_file(names_path), self.captions_per_image
            ):
                if name in first_split:
                    raise BadInput(names_path, f"{name} is also in the {first_split[name]} split", line)
                first_split[name] = split
                items.append((split, str(names_path), name, line, tuple(captions)))
        return items

    def read(self, item: tuple[str, str, str, int, tuple[str, ...]]) -> Sample:
        split, names_path, name, line, captions = item
        path = self.named_file(self.image_dir, name, cited=names_path, line=line)
        if not path.exists():
            raise BadInput(names_path, f"image {name} not found in {self.image_dir}", line)
        return Sample(
            image_id=f"{self.source}/{Path(name).with_suffix('').as_posix()}",
            source=self.source,
            image_path=path,
            captions=[clean_caption(c) for c in captions],
            split=split,
            meta={"file": name},
        )
