"""``validate``: the contract checks of rs_formats plus the row rules rs-annotate promises.

Row rules: the image decodes (its header under :data:`rs_formats.pixel_limits.MAX_ROW_PIXELS`) and its size equals ``width`` x ``height``; every box lies inside the image
with positive area; caption datasets have ``n_captions`` non-empty captions per row; classification rows
have a ``label`` that indexes ``class_names``; every row has a ``phash``.

Rows whose image decodes to one constant colour are counted (``n_constant``), not failed: a 16-bit or
float source stored without the imagery rule decodes as pure white or black, but a blank tile can be
legitimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rs_formats import FormatError, console, open_dataset, verify_dataset
from rs_formats.pixel_limits import decode_image

MAX_LISTED = 100


def validate(dataset: str | Path, *, n_captions: int = 5, decode: bool = True) -> dict[str, Any]:
    """Verify checksums and schema (FormatError on failure), then check every row.

    Args:
        dataset: the rs-dataset to check.
        n_captions: how many captions a captions row must have.
        decode: also read and decode every image (False: the image column is not read).

    Returns:
        ``{"ok", "rows", "problems": [...first 100...], "n_problems", "n_constant", "contract": ...}``.
    """
    contract = verify_dataset(dataset)
    ds = open_dataset(dataset)
    problems: list[str] = []
    n_problems = 0
    rows = 0
    constant = 0
    columns = ["image_id", "width", "height", "captions", "objects", "label", "phash"] + (
        ["image"] if decode else []
    )
    total = sum(ds.num_rows(s) for s in ds.splits)
    with console.progress(total=total, desc=f"validate {ds.name}", unit="row") as bar:
        for split in ds.splits:
            for batch in ds.iter_batches(split, columns=columns, batch_size=64):
                for row in batch.to_pylist():
                    rows += 1
                    found, flat = row_problems(row, ds.kind, ds.class_names, n_captions)
                    constant += flat
                    n_problems += len(found)
                    problems.extend(
                        f"{split}/{row['image_id']}: {f}" for f in found[: MAX_LISTED - len(problems)]
                    )
                bar.update(batch.num_rows)
    return {
        "path": str(ds.path),
        "ok": n_problems == 0,
        "rows": rows,
        "n_problems": n_problems,
        "n_constant": constant,
        "problems": problems,
        "contract": contract,
    }


def row_problems(
    row: dict[str, Any], kind: str, class_names: list[str] | None, n_captions: int
) -> tuple[list[str], bool]:
    """What is wrong with one row under the rules above, and whether its image is one constant colour (the
    image is decoded when the row holds it)."""
    found = []
    w, h = row["width"], row["height"]
    flat = False
    if "image" in row:
        image_found, flat = _image_problems(row["image"], w, h)
        found.extend(image_found)
    for k, o in enumerate(row["objects"] or []):
        if not (0 <= o["x0"] < o["x1"] <= w and 0 <= o["y0"] < o["y1"] <= h):
            found.append(
                f"object {k} ({o['label']} {o['x0']},{o['y0']},{o['x1']},{o['y1']}) is "
                f"empty or outside the {w}x{h} image"
            )
    if kind == "captions":
        caps = row["captions"] or []
        if len(caps) != n_captions or not all(c and c.strip() for c in caps):
            found.append(f"has {len(caps)} caption(s) (some empty?), expected {n_captions}")
    if kind == "classification":
        names = class_names or []
        if row["label"] is None or not 0 <= row["label"] < len(names):
            found.append(f"label {row['label']} does not index the {len(names)} class names")
    if row["phash"] is None:
        found.append("has no phash")
    return found, flat


def _image_problems(data: bytes, width: int, height: int) -> tuple[list[str], bool]:
    """The image's problems, and whether it decodes (as consumers do, to RGB) to one constant colour."""
    try:  # under the row pixel limit every consumer applies: a bomb is a problem of its row
        img = decode_image(data)
    except FormatError as exc:
        return [f"image does not decode ({exc.reason})"], False
    flat = all(lo == hi for lo, hi in img.getextrema())
    if img.size != (width, height):
        return [f"image is {img.size[0]}x{img.size[1]}, row says {width}x{height}"], flat
    return [], flat
