"""``rs-annotate export webdataset|csv``: an rs-dataset in the layouts open_clip_train and clip_benchmark read.

Decisions (what those tools leave open, or where they disagree):

- One sample per image, numbered per split from ``000000`` in row order; its image is the stored bytes
  (``.jpg`` / ``.png``, by their signature); images stored in another format (TIFF originals) are written
  as lossless PNG, since open_clip_train decodes only jpg, png, jpeg and webp. Counted in ``reencoded``.
- Its text: a captions (or counting) row's first caption; a classification row's class name. open_clip_train
  trains on one text per sample. ``captions="all"`` writes every caption, one per line (line breaks inside
  a caption escaped as ``\\n``), which is what clip_benchmark's retrieval reads from ``.txt``.
  The webdataset sample's ``.json`` always carries every caption, the label, class name, image id and size.
- WebDataset: ``OUT/<split>/{0..N-1}.tar`` (clip_benchmark's shard names; open_clip_train takes the brace
  pattern), at most ``shard_size`` samples a shard, plus clip_benchmark's ``<split>/nshards.txt``,
  ``classnames.txt`` and ``.cls`` members (the label index) for classification sets and
  ``dataset_type.txt`` (``retrieval``) for caption sets, and open_clip_train's ``<split>/sizes.json``
  (samples per shard: no ``--train-num-samples`` needed). No ``zeroshot_classification_templates.txt``:
  the prompts are the evaluator's choice (clip_benchmark's ``--custom_template_file``). Tar members have
  fixed owner, mode and time, so an export is byte-identical from run to run.
- CSV: open_clip_train's ``--csv-img-key filepath --csv-caption-key title`` layout, ``OUT/<split>.csv``
  beside ``OUT/images/<split>/NNNNNN.jpg``, tab-separated by default (open_clip_train's
  ``--csv-separator`` default); one row per caption, so no caption is lost (an image with five captions is
  seen five times an epoch). ``filepath`` is absolute (open_clip_train opens it from its working
  directory), or relative to OUT with ``relative=True``.
- A row without text (no caption, or no label) is skipped and counted; everything else is exported. OUT
  appears complete or not at all, with ``export.json`` saying what it holds.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rs_formats import Dataset, open_dataset
from rs_formats.atomic import atomic_dir
from rs_formats.location import absolute
from rs_formats.outputs import check_output

from .options import CAPTION_MODES
from .source_images import encode
from .version import GENERATOR

_SIGNATURES = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
_COLUMNS = ("image_id", "image", "captions", "label", "width", "height", "source")


@dataclass
class Sample:
    """One exported image: its key, image file, text lines and what the ``.json`` carries."""

    key: str
    ext: str
    image: bytes
    texts: list[str]
    label: int | None
    meta: dict[str, Any]


@dataclass
class _Tally:
    samples: int = 0
    skipped: int = 0
    reencoded: int = 0


def _image(data: bytes, image_id: str, tally: _Tally) -> tuple[str, bytes]:
    for signature, ext in _SIGNATURES.items():
        if data.startswith(signature):
            return ext, data
    from rs_formats.pixel_limits import decode_image

    tally.reencoded += 1
    return "png", encode(decode_image(data, row=image_id), "PNG")


def samples(ds: Dataset, split: str, tally: _Tally) -> Iterator[Sample]:
    """The split's rows as samples, in row order; rows without text counted in ``tally`` and left out."""
    names = ds.class_names or []
    for row in ds.iter_rows(split, list(_COLUMNS)):
        label = row["label"] if ds.kind == "classification" else None
        captions = [c for c in row["captions"] or [] if c]
        texts = captions or ([names[label]] if label is not None and 0 <= label < len(names) else [])
        if not texts:
            tally.skipped += 1
            continue
        ext, image = _image(row["image"], row["image_id"], tally)
        meta = {
            "image_id": row["image_id"],
            "source": row["source"],
            "captions": captions,
            "width": row["width"],
            "height": row["height"],
        }
        if label is not None:
            meta |= {"label": label, "class_name": names[label]}
        yield Sample(f"{tally.samples:06d}", ext, image, texts, label, meta)
        tally.samples += 1


def _splits(ds: Dataset, splits: Sequence[str] | None) -> list[str]:
    chosen = list(splits) if splits else ds.splits
    missing = [s for s in chosen if s not in ds.splits]
    if missing:
        raise ValueError(f"{ds.path}: no split {', '.join(missing)} (splits: {', '.join(ds.splits)})")
    return chosen


def _text(sample: Sample, captions: str) -> str:
    lines = sample.texts if captions == "all" else sample.texts[:1]
    return "\n".join(t.replace("\n", "\\n") for t in lines)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def _summary(ds: Dataset, fmt: str, splits: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": fmt,
        "generator": GENERATOR,
        "dataset": absolute(ds.path),
        "dataset_name": ds.name,
        "dataset_sha256": ds.manifest_sha256(),
        "kind": ds.kind,
        "options": options,
        "splits": splits,
    }


def export_webdataset(
    dataset: str | Path | Dataset,
    out: str | Path,
    *,
    splits: Sequence[str] | None = None,
    shard_size: int = 1000,
    captions: str = "first",
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write tar shards of ``dataset`` at ``out`` (see the module docstring for the layout).

    Args:
        dataset: an rs-dataset (its directory or URI, or opened).
        out: the export's local directory, written atomically (never over, in or around the dataset).
        splits: the splits exported (default: every one).
        shard_size: samples per shard at most.
        captions: ``first`` (``.txt`` holds one caption, for open_clip_train) or ``all`` (every caption, one
            a line, for clip_benchmark's retrieval).
        overwrite: replace ``out`` if it exists.

    Returns:
        What ``export.json`` records: per split its samples, shards, skipped rows and re-encoded images.
    """
    if shard_size < 1:
        raise ValueError(f"shard size must be >= 1, got {shard_size}")
    if captions not in CAPTION_MODES:
        raise ValueError(f"captions must be one of {', '.join(CAPTION_MODES)}, got {captions!r}")
    ds = _open(dataset, out, overwrite)
    done: dict[str, Any] = {}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for split in _splits(ds, splits):
            (tmp / split).mkdir()
            tally, sizes = _Tally(), {}
            tar = None
            for sample in samples(ds, split, tally):
                if tar is None or int(sample.key) % shard_size == 0:
                    if tar is not None:
                        tar.close()
                    name = f"{len(sizes)}.tar"
                    sizes[name] = 0
                    tar = tarfile.open(tmp / split / name, "w", format=tarfile.PAX_FORMAT)
                _add(tar, f"{sample.key}.{sample.ext}", sample.image)
                _add(tar, f"{sample.key}.txt", _text(sample, captions).encode())
                _add(tar, f"{sample.key}.json", json.dumps(sample.meta).encode())
                if sample.label is not None:
                    _add(tar, f"{sample.key}.cls", str(sample.label).encode())
                sizes[name] += 1
            if tar is not None:
                tar.close()
            (tmp / split / "nshards.txt").write_text(f"{len(sizes)}\n")
            (tmp / split / "sizes.json").write_text(json.dumps(sizes, indent=1) + "\n")
            done[split] = {"samples": tally.samples, "shards": len(sizes)} | _skips(tally)
        if ds.kind == "classification":
            (tmp / "classnames.txt").write_text("".join(f"{n}\n" for n in ds.class_names or []))
        else:
            (tmp / "dataset_type.txt").write_text("retrieval\n")
        options = {"shard_size": shard_size, "captions": captions}
        summary = _summary(ds, "webdataset", done, options)
        (tmp / "export.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def export_csv(
    dataset: str | Path | Dataset,
    out: str | Path,
    *,
    splits: Sequence[str] | None = None,
    separator: str = "\t",
    relative: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write ``<split>.csv`` (``filepath``, ``title``, ``image_id``) and the images beside it at ``out``.

    Args:
        dataset: an rs-dataset (its directory or URI, or opened).
        out: the export's local directory, written atomically (never over, in or around the dataset).
        splits: the splits exported (default: every one).
        separator: the CSV's field separator (open_clip_train's ``--csv-separator``; default tab).
        relative: ``filepath`` relative to ``out`` instead of absolute.
        overwrite: replace ``out`` if it exists.

    Returns:
        What ``export.json`` records: per split its images, rows (one per caption), skipped rows and
        re-encoded images.
    """
    if len(separator) != 1:
        raise ValueError(f"the separator must be one character, got {separator!r}")
    ds = _open(dataset, out, overwrite)
    final = Path(out).resolve()
    done: dict[str, Any] = {}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for split in _splits(ds, splits):
            folder = Path("images") / split
            (tmp / folder).mkdir(parents=True)
            tally, rows = _Tally(), 0
            with open(tmp / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, delimiter=separator, lineterminator="\n")
                writer.writerow(["filepath", "title", "image_id"])
                for sample in samples(ds, split, tally):
                    image = folder / f"{sample.key}.{sample.ext}"
                    (tmp / image).write_bytes(sample.image)
                    path = image.as_posix() if relative else str(final / image)
                    for text in sample.texts:
                        writer.writerow([path, text, sample.meta["image_id"]])
                        rows += 1
            done[split] = {"images": tally.samples, "rows": rows} | _skips(tally)
        options = {"separator": separator, "relative": relative}
        summary = _summary(ds, "csv", done, options)
        (tmp / "export.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def _open(dataset: str | Path | Dataset, out: str | Path, overwrite: bool) -> Dataset:
    """The dataset, opened once ``out`` is known to be a safe place for its export."""
    check_output(out, [dataset.path if isinstance(dataset, Dataset) else dataset], overwrite)
    return dataset if isinstance(dataset, Dataset) else open_dataset(dataset)


def _skips(tally: _Tally) -> dict[str, int]:
    return {"skipped_without_text": tally.skipped, "reencoded_as_png": tally.reencoded}
