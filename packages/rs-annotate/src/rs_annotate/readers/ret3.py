"""RET-3 caption sets (RSICD, RSITMD, UCM-captions, Sydney-captions): Karpathy-style JSON.

``{"images": [{"filename", "split", "sentences": [{"raw", ...}, ...], ...}], "dataset": ...}`` next to an
image folder. The human captions are kept (B2C is not applied). Cleaning is whitespace only: runs of spaces
collapse, and the space these files put before punctuation goes ("neatly ." -> "neatly."); words and case
stay as the annotators wrote them.

Five captions per image, as the rs-dataset contract wants for caption sets: an image with more keeps its
first five; one with fewer repeats its captions in order until there are five (what the RSICD authors did
themselves for images with fewer distinct sentences), so no caption is invented. ``n_captions=None`` keeps
every image's captions as they are. ``meta["n_captions"]`` records the count in the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..types import BadInput, Sample
from .base import REQUIRE_IMAGES, Alias, Option, Reader, ReaderInfo, chosen_splits, register, source_option
from .files import read_json

IMAGE_DIRS = ("images", "imgs", "RSICD_images", "Images", "UCM_captions_images")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


def clean_caption(raw: str) -> str:
    """Whitespace-normalised caption without the space before punctuation."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(raw.split()))


def fit_captions(captions: list[str], n: int | None) -> list[str]:
    """Exactly ``n`` captions: the first ``n``, or all of them repeated in order (``None``: unchanged)."""
    if n is None or not captions:
        return list(captions)
    return [captions[i % len(captions)] for i in range(n)]


def find_json(root: Path) -> Path:
    """The caption JSON under ``root``: ``dataset*.json`` at the top, else exactly one below it."""
    top = sorted(root.glob("dataset*.json"))
    found = (
        top
        or sorted(root.rglob("dataset*.json"))
        or sorted(p for p in root.rglob("*.json") if not p.name.startswith("_"))
    )
    if not found:
        raise BadInput(root, "no caption JSON (dataset*.json) found; pass json=PATH")
    if len(found) > 1:
        names = ", ".join(p.relative_to(root).as_posix() for p in found)
        raise BadInput(root, f"several caption JSON files ({names}); pass json=PATH to pick one")
    return found[0]


def load_json(path: Path) -> tuple[list[Any], str | None]:
    """The ``images`` list and the ``dataset`` name of a Karpathy-style JSON file."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise BadInput(path, 'missing key \'images\' (expected {"images": [...], "dataset": ...})')
    name = data.get("dataset")
    return data["images"], name.lower() if isinstance(name, str) and name else None


def parse_entry(entry: Any, index: int, path: Path) -> tuple[str, str, list[str]]:
    """(file name, split, cleaned captions) of ``images[index]``, or BadInput naming the entry.

    The file name is ``filepath/filename`` when the entry has a ``filepath`` (a sub-folder, as in COCO's
    Karpathy files); both must be strings.
    """
    where = f"images[{index}]"
    if not isinstance(entry, dict):
        raise BadInput(path, f"{where} is not an object")
    for key in ("filename", "split", "sentences"):
        if key not in entry:
            raise BadInput(path, f"{where}: missing key {key!r}")
    filename, split, sentences = entry["filename"], entry["split"], entry["sentences"]
    if not isinstance(filename, str) or not filename.strip():
        raise BadInput(path, f"{where}: 'filename' is not a file name: {filename!r}")
    where = f"{where} ({filename})"
    filepath = entry.get("filepath", "")
    if not isinstance(filepath, str):
        raise BadInput(path, f"{where}: 'filepath' is not a folder name: {filepath!r}")
    if filepath.strip():
        filename = f"{filepath.strip().rstrip('/')}/{filename}"
    if not isinstance(split, str) or not split:
        raise BadInput(path, f"{where}: 'split' is not a split name: {split!r}")
    if not isinstance(sentences, list) or not sentences:
        raise BadInput(path, f"{where}: 'sentences' is empty or not a list")
    captions = []
    for k, sentence in enumerate(sentences):
        raw = sentence.get("raw") if isinstance(sentence, dict) else None
        if not isinstance(raw, str):
            raise BadInput(path, f"{where}: sentences[{k}] has no 'raw' text")
        text = clean_caption(raw)
        if not text.strip(".,;:!? "):
            raise BadInput(path, f"{where}: sentences[{k}] is empty")
        captions.append(text)
    return filename, split, captions


@register
class Ret3Reader(Reader):
    """Karpathy-style caption JSON + image folder (options: :attr:`OPTIONS`); each sample keeps its split."""

    info = ReaderInfo(
        name="ret3",
        title="RET-3 caption JSON (RSICD, RSITMD, UCM-captions, Sydney-captions)",
        layout='ROOT/\n  dataset_rsicd.json   {"images": [{"filename", "split", "sentences": '
        '[{"raw"}]}]}\n  RSICD_images/airport_1.jpg  (or images/, imgs/)',
        license="RSICD, RSITMD, UCM-captions, Sydney-captions: research use; see each dataset's page",
        url="https://github.com/201528014227051/RSICD_optimal",
        kind="captions",
        # The source names are what each set's own JSON calls it ("dataset": "ucm" for UCM-captions).
        aliases=(
            Alias("rsicd", {"source": "rsicd"}),
            Alias("rsitmd", {"source": "rsitmd"}),
            Alias("ucm-captions", {"source": "ucm"}),
            Alias("sydney", {"source": "sydney"}),
        ),
    )
    OPTIONS = (
        Option(
            "json",
            None,
            "the caption file, relative to the root or absolute (default: the one dataset*.json found)",
        ),
        Option(
            "image_dir",
            None,
            f"image folder below the root (default: the first of {', '.join(IMAGE_DIRS)} "
            "that exists, else the root)",
        ),
        Option("splits", None, "splits to include, e.g. train,val (default: all)"),
        Option(
            "n_captions", 5, "captions per image: the first n, or all repeated in order (None: as they are)"
        ),
        source_option(None, "the JSON's dataset value, lower-cased"),
        REQUIRE_IMAGES,
    )

    def _json_path(self) -> Path:
        given = self.options["json"]
        if given is None:
            return self.source_file(find_json(self.root))
        path = Path(given) if Path(given).is_absolute() else self.root / given
        if not path.exists():
            raise BadInput(path, "caption JSON not found")
        return path  # named by the user

    def _image_dir(self) -> Path:
        given = self.options["image_dir"]
        if given is not None:
            return self.trust_dir(self.root / given)
        return next((self.root / d for d in IMAGE_DIRS if (self.root / d).is_dir()), self.root)

    def items(self) -> list[tuple[str, str, str, int, Any]]:
        path = self._json_path()
        entries, name = load_json(path)
        present = sorted(
            {e["split"] for e in entries if isinstance(e, dict) and isinstance(e.get("split"), str)}
        )
        wanted = (
            None
            if self.options["splits"] is None
            else set(chosen_splits(path, self.options["splits"], present))
        )
        source = self.options["source"] or name or path.stem
        image_dir = str(self._image_dir())
        # An entry without a usable split stays in, so that read() reports it rather than it vanishing.
        return [
            (str(path), image_dir, source, i, e)
            for i, e in enumerate(entries)
            if wanted is None
            or not isinstance(e, dict)
            or e.get("split") in wanted
            or not isinstance(e.get("split"), str)
        ]

    def read(self, item: tuple[str, str, str, int, Any]) -> Sample:
        json_path, image_dir, source, index, entry = item
        path = Path(json_path)
        filename, split, captions = parse_entry(entry, index, path)
        try:
            image = self.named_file(image_dir, filename, cited=path)
        except BadInput as exc:
            raise BadInput(path, f"images[{index}]: {exc.message}") from None
        if self.options["require_images"] and not image.exists():
            raise BadInput(image, f"image of {path.name} images[{index}] does not exist")
        stem = Path(filename).with_suffix("").as_posix()
        return Sample(
            image_id=f"{source}/{stem}",
            source=source,
            image_path=image,
            captions=fit_captions(captions, self.options["n_captions"]),
            split=split,
            meta={"file": _rel(path, self.root), "index": index, "n_captions": len(captions)},
        )


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
