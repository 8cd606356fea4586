"""Import a released RemoteCount annotation file (CSV, JSON or JSON Lines) as a counting dataset.

Each record names an image and either its class and count, or a caption from which both are read
(e.g. "There are three tennis courts in the image."), or all three (then they must agree). Accepted
column / key names (case-insensitive):

* image: ``image``, ``image_id``, ``filename``, ``file_name``, ``file``, ``path``, ``img``
* class: ``class``, ``category``, ``count_label``, ``label``, ``object``
* count: ``count``, ``number``, ``num``
* caption: ``caption``, ``text``, ``sentence``, ``captions`` (first of a list)

JSON may be a list of records, ``{"annotations": [...]}`` (or ``images`` / ``data``), or a mapping
``{image: caption}``. The image reference is looked up under ``--images`` by relative path, file name,
or stem. Images are converted like :func:`rs_count.build.build`'s (rs-annotate's conversion, with the
same storage settings), without cropping: the released benchmark's images are kept whole. Bad records are :class:`rs_annotate.BadInput` naming the file
and line (or record), tagged with a kind for ``--skip-bad``'s counts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rs_annotate import BadInput, ConvertOptions
from rs_annotate.readers.files import as_bad_input, read_text
from rs_formats import FormatError, check_new_dataset
from rs_formats.inputs import parse_json
from rs_formats.outputs import check_output

from .build import BuildReport, Candidate, CountingImages, runs_on_ray
from .classes import REMOTECOUNT_CLASSES, class_name
from .image_lookup import ImageIndex
from .rules import BuildRules

_KEYS = {
    "image": ("image", "image_id", "filename", "file_name", "file", "path", "img"),
    "class": ("class", "category", "count_label", "label", "object"),
    "count": ("count", "number", "num"),
    "caption": ("caption", "text", "sentence", "captions"),
}


def _records(path: Path) -> Iterator[tuple[int | None, str, dict[str, Any]]]:
    """``(line, where, record)`` for every annotation, whatever the file's layout."""
    suffix = path.suffix.lower()
    text = read_text(path)
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        try:
            if not reader.fieldnames:
                raise BadInput(path, "empty CSV file (expected a header row)")
            for rec in reader:
                yield reader.line_num, f"line {reader.line_num}", rec
        except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte, ...
            raise BadInput(path, f"not valid CSV: {exc}", reader.line_num + 1) from None
        return
    if suffix == ".jsonl":
        for i, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    record = parse_json(line, path)
                except FormatError as exc:
                    raise BadInput(path, exc.reason, i) from None
                yield i, f"line {i}", record
        return
    if suffix != ".json":
        raise BadInput(path, f"unknown annotation format {suffix!r} (expected .csv, .json or .jsonl)")
    with as_bad_input():
        data = parse_json(text, path)  # bounded depth: a file nested thousands deep is one error
    if isinstance(data, dict):
        inner = next(
            (data[k] for k in ("annotations", "images", "data") if isinstance(data.get(k), list)), None
        )
        if inner is None:
            if not all(isinstance(v, str) for v in data.values()):
                raise BadInput(path, "JSON object must map images to captions or hold an 'annotations' list")
            inner = [{"image": k, "caption": v} for k, v in data.items()]
        data = inner
    if not isinstance(data, list):
        raise BadInput(path, "JSON must be a list of annotation records")
    for i, rec in enumerate(data):
        yield None, f"record #{i}", rec


def _get(rec: dict[str, Any], what: str) -> Any:
    lower = {str(k).lower(): v for k, v in rec.items()}
    for key in _KEYS[what]:
        v = lower.get(key)
        if v not in (None, ""):
            return v[0] if isinstance(v, list) and v else v
    return None


def _parse(
    rec: Any, where: str, path: Path, line: int | None, rules: BuildRules
) -> tuple[str, str, int, str | None]:
    def fail(msg: str, kind: str = "malformed") -> BadInput:
        return BadInput(path, msg if line is not None else f"{where}: {msg}", line, kind=kind)

    if not isinstance(rec, dict):
        raise fail("not an object")
    image = _get(rec, "image")
    if image is None:
        raise fail(f"no image field (one of {', '.join(_KEYS['image'])})")
    if not isinstance(image, (str, int)) or isinstance(image, bool):
        raise fail(f"the image field is not a file name: {image!r}")
    raw_cls, raw_count, caption = _get(rec, "class"), _get(rec, "count"), _get(rec, "caption")
    parsed = rules.template.parse(str(caption), REMOTECOUNT_CLASSES) if caption is not None else None
    if raw_cls is None and raw_count is None and parsed is None:
        if caption is None:
            raise fail("needs class and count, or a caption")
        raise fail(
            f"caption {caption!r} does not match the template {rules.template.text!r} "
            "(pass --template, or give class and count columns)"
        )
    cls = class_name(str(raw_cls)) if raw_cls is not None else (parsed[0] if parsed else None)
    if cls is None:
        raise fail("no class column and the caption names no RemoteCount class", "unknown-class")
    if cls not in REMOTECOUNT_CLASSES:
        raise fail(
            f"unknown class {raw_cls!r} (RemoteCount classes: {', '.join(REMOTECOUNT_CLASSES)})",
            "unknown-class",
        )
    if raw_count is not None:
        try:
            count = int(str(raw_count).strip())
        except ValueError:
            raise fail(f"count {raw_count!r} is not an integer", "bad-count") from None
    elif parsed is not None:
        count = parsed[1]
    else:
        raise fail("no count column and the caption has no number", "bad-count")
    if not 1 <= count <= 10:
        raise fail(f"count {count} is outside RemoteCount's 1..10", "bad-count")
    if parsed is not None and (parsed[0], parsed[1]) != (cls, count):
        raise fail(
            f"caption {caption!r} says {parsed[1]} {parsed[0]}, the columns say {count} {cls}", "bad-count"
        )
    return str(image), cls, count, None if caption is None else str(caption)


def import_annotations(
    file: str | Path,
    images_dir: str | Path,
    out: str | Path,
    rules: BuildRules | None = None,
    *,
    skip_bad: bool = False,
    overwrite: bool = False,
    name: str | None = None,
    progress: bool = True,
    conversion: ConvertOptions | None = None,
) -> BuildReport:
    """Write the counting dataset a RemoteCount annotation file describes (no selection rules apply).

    Args:
        file: the annotation file (``.csv``, ``.json`` or ``.jsonl``).
        images_dir: the folder its image names are looked up in.
        out: the dataset directory, or its URI, to write (its report goes beside it).
        rules: storage settings, caption template and balancing (default: source ``remotecount``).
        skip_bad: count and report bad records instead of failing on the first.
        overwrite: replace an existing ``out``.
        name: the dataset's name (default ``remotecount-<file stem>``).
        progress: show a progress bar (on a terminal only).
        conversion: how rs-annotate's conversion runs (``workers``, ``engine``, ``address``).

    Returns:
        The import's report: records read, rows written per count and class, bad records.
    """
    file, out = Path(file), check_new_dataset(check_output(out, [file, images_dir], overwrite), overwrite)
    rules = rules or BuildRules(source="remotecount")
    if rules.source == "dota":
        rules = replace(rules, source="remotecount")
    index = ImageIndex(images_dir, runs_on_ray(conversion))
    images = CountingImages(index.root, rules, skip_bad=skip_bad, license="see RemoteCount release")
    seen: dict[str, str] = {}
    for line, where, rec in _records(file):
        images.inputs += 1
        try:
            ref, cls, count, caption = _parse(rec, where, file, line, rules)
            img = index.find(ref, cited=file, line=line)
            image_id = f"{rules.source}/{img.stem}"
            if image_id in seen:
                prefix = "" if line is not None else f"{where}: "
                raise BadInput(
                    file,
                    f"{prefix}image {ref!r} already annotated at {seen[image_id]}",
                    line,
                    kind="duplicate",
                )
            seen[image_id] = where
        except BadInput as exc:
            images.refuse(exc)
            continue
        meta = {"annotations": file.name, "record": where, "image": img.name}
        images.add(Candidate(image_id, img, cls, count, None, [], meta, caption))
    if not images.candidates:
        raise BadInput(file, "holds no usable annotation", kind="empty")
    return images.write(
        out,
        name=name or f"remotecount-{file.stem}",
        overwrite=overwrite,
        progress=progress,
        conversion=conversion,
    )
