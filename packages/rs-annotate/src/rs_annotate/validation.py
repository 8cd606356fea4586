"""``validate``: the contract checks of rs_formats plus the row rules rs-annotate promises.

Row rules: the image decodes and its size equals ``width`` x ``height``; every box lies inside the image
with positive area; caption datasets have ``n_captions`` non-empty captions per row; classification rows
have a ``label`` that indexes ``class_names``; every row has a ``phash``.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

from rs_formats import open_dataset, verify_dataset

MAX_LISTED = 100


def validate(dataset: str | Path, *, n_captions: int = 5, decode: bool = True) -> dict[str, Any]:
    """Verify checksums and schema (FormatError on failure), then check every row.

    Returns ``{"ok", "rows", "problems": [...first 100...], "n_problems", "contract": ...}``.
    """
    from PIL import Image

    contract = verify_dataset(dataset)
    ds = open_dataset(dataset)
    problems: list[str] = []
    n_problems = 0
    rows = 0
    columns = ["image_id", "width", "height", "captions", "objects", "label", "phash"] + (["image"] if decode else [])
    for split in ds.splits:
        for batch in ds.iter_batches(split, columns=columns, batch_size=64):
            for row in batch.to_pylist():
                rows += 1
                found = []
                w, h = row["width"], row["height"]
                if decode:
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            img = Image.open(io.BytesIO(row["image"]))
                            img.load()
                        if img.size != (w, h):
                            found.append(f"image is {img.size[0]}x{img.size[1]}, row says {w}x{h}")
                    except (OSError, ValueError, SyntaxError) as exc:
                        found.append(f"image does not decode ({exc})")
                for k, o in enumerate(row["objects"] or []):
                    if not (0 <= o["x0"] < o["x1"] <= w and 0 <= o["y0"] < o["y1"] <= h):
                        found.append(f"object {k} ({o['label']} {o['x0']},{o['y0']},{o['x1']},{o['y1']}) is "
                                     f"empty or outside the {w}x{h} image")
                if ds.kind == "captions":
                    caps = row["captions"] or []
                    if len(caps) != n_captions or not all(c and c.strip() for c in caps):
                        found.append(f"has {len(caps)} caption(s) (some empty?), expected {n_captions}")
                if ds.kind == "classification":
                    names = ds.class_names or []
                    if row["label"] is None or not 0 <= row["label"] < len(names):
                        found.append(f"label {row['label']} does not index the {len(names)} class names")
                if row["phash"] is None:
                    found.append("has no phash")
                n_problems += len(found)
                for f in found:
                    if len(problems) < MAX_LISTED:
                        problems.append(f"{split}/{row['image_id']}: {f}")
    return {"path": str(ds.path), "ok": n_problems == 0, "rows": rows, "n_problems": n_problems,
            "problems": problems, "contract": contract}
