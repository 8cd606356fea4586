"""Contact sheet: the first ``n`` images of a dataset with their boxes and a caption, as one PNG."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from rs_formats import FormatError, open_dataset


def show(dataset: str | Path, out: str | Path, *, n: int = 16, split: str | None = None,
         columns: int = 4) -> Path:
    """Draw ``n`` rows of ``split`` (default: the first split) with boxes and captions into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ds = open_dataset(dataset)
    split = split or ds.splits[0]
    rows = []
    for batch in ds.iter_batches(split, columns=["image_id", "image", "captions", "objects", "label"],
                                 batch_size=max(1, n)):
        rows.extend(batch.to_pylist()[: n - len(rows)])
        if len(rows) >= n:
            break
    if not rows:
        raise FormatError(ds.path, f"split {split!r} has no rows to show")
    cols = min(columns, len(rows))
    grid_rows = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(grid_rows, cols, figsize=(3.2 * cols, 4.0 * grid_rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows):
        try:
            img = Image.open(io.BytesIO(row["image"])).convert("RGB")
        except (OSError, ValueError, SyntaxError) as exc:
            raise FormatError(ds.path, f"row {row['image_id']}: image does not decode: {exc}") from None
        ax.imshow(img)
        for o in row["objects"] or []:
            ax.add_patch(Rectangle((o["x0"], o["y0"]), o["x1"] - o["x0"], o["y1"] - o["y0"],
                                   fill=False, edgecolor="yellow", linewidth=0.8))
        if row["captions"]:
            text = row["captions"][0]
        elif row["label"] is not None and ds.class_names:
            text = ds.class_names[row["label"]]
        else:
            text = ""
        ax.set_title(row["image_id"], fontsize=7)
        ax.text(0.5, -0.02, "\n".join(textwrap.wrap(text, 42)), transform=ax.transAxes, ha="center",
                va="top", fontsize=6.5)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
