"""Contact sheet: ``n`` images of a dataset with their boxes and a caption, as one PNG.

The images are a seeded sample dealt round-robin over the sources (sorted by name), so a merged dataset
shows every source rather than its first one, and the same seed always shows the same images.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rs_formats import Dataset, FormatError, open_dataset
from rs_formats.outputs import check_output
from rs_formats.pixel_limits import decode_image

_COLUMNS = ["image_id", "source", "image", "captions", "objects", "label"]


def pick_rows(sources: Sequence[str], n: int, seed: int = 0) -> list[int]:
    """Indices of ``n`` rows (all when fewer): per source a seeded shuffle, then one from each source in turn.

    Each source is shuffled by its own generator, so adding a source never changes which rows another
    source contributes, only how many.
    """
    by_source: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        by_source.setdefault(src, []).append(i)
    queues = []
    for src in sorted(by_source):
        rows = by_source[src]
        random.Random(f"{seed}/{src}").shuffle(rows)
        queues.append(rows)
    picked: list[int] = []
    depth = 0
    while len(picked) < min(n, len(sources)):
        picked.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return picked[:n]


def _read_rows(ds: Dataset, split: str, indices: Sequence[int]) -> list[dict[str, Any]]:
    """The rows at ``indices`` of ``split``, in that order, reading only the row groups that hold them."""
    wanted = sorted(indices)
    found: dict[int, dict[str, Any]] = {}
    start, k = 0, 0
    for gi, group in enumerate(ds.row_groups(split)):
        end = start + group.num_rows
        local = []
        while k < len(wanted) and wanted[k] < end:
            local.append(wanted[k] - start)
            k += 1
        if local:
            table = ds.read_row_group(split, gi, _COLUMNS)
            for i, row in zip(local, table.take(local).to_pylist()):
                found[start + i] = row
        start = end
    return [found[i] for i in indices]


def show(
    dataset: str | Path,
    out: str | Path,
    *,
    n: int = 16,
    split: str | None = None,
    columns: int = 4,
    seed: int = 0,
) -> Path:
    """Draw a seeded sample of rows, spread over the sources (:func:`pick_rows`), with boxes and captions.

    Args:
        dataset: the rs-dataset to show.
        out: the image file to write (its suffix picks the format, as matplotlib's ``savefig``).
        n: how many rows.
        split: which split (default: the first).
        columns: rows drawn side by side.
        seed: the sample's seed.

    Returns:
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if columns < 1:
        raise ValueError(f"--columns must be >= 1, got {columns}")
    out = check_output(out, [dataset])
    ds = open_dataset(dataset)
    split = split or ds.splits[0]
    sources = ds.read_table(split, columns=["source"]).column("source").to_pylist()
    rows = _read_rows(ds, split, pick_rows(sources, n, seed))
    if not rows:
        raise FormatError(ds.path, f"split {split!r} has no rows to show")
    cols = min(columns, len(rows))
    grid_rows = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(grid_rows, cols, figsize=(3.2 * cols, 4.0 * grid_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows):
        ax.imshow(decode_image(row["image"], path=ds.path, row=f"split {split!r}, image {row['image_id']!r}"))
        for o in row["objects"] or []:
            ax.add_patch(
                Rectangle(
                    (o["x0"], o["y0"]),
                    o["x1"] - o["x0"],
                    o["y1"] - o["y0"],
                    fill=False,
                    edgecolor="yellow",
                    linewidth=0.8,
                )
            )
        if row["captions"]:
            text = row["captions"][0]
        elif row["label"] is not None and ds.class_names:
            text = ds.class_names[row["label"]]
        else:
            text = ""
        ax.set_title(row["image_id"], fontsize=7)
        ax.text(
            0.5,
            -0.02,
            "\n".join(textwrap.wrap(text, 42)),
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=6.5,
        )
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
