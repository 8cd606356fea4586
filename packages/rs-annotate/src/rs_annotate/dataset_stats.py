"""Dataset statistics: images and objects per source, class frequencies, caption lengths (paper Fig. 3).

Reads only the small columns (never the image bytes), so it runs in seconds on the full corpus.
Plots use matplotlib's Agg backend (no display needed).

``table_i`` sets each converted source that the RemoteCLIP paper's Table I lists beside Table I's own
images, classes and boxes (:data:`TABLE_I`, keyed by the source names rs-annotate's readers write; "-" in
the table is None). Table I prints LEVIR's image count as "37,91" (3,791 read).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from rs_formats import open_dataset
from rs_formats.outputs import check_output

_COLUMNS = ["source", "captions", "objects", "label"]

#: The paper's Table I: source -> (images, classes, boxes).
TABLE_I: dict[str, tuple[int, int | None, int | None]] = {
    "rsicd": (8483, None, None),
    "rsitmd": (3603, None, None),
    "ucm": (1676, None, None),
    "auair": (32823, 8, 132031),
    "carpk": (1568, 1, 106690),
    "dior": (23463, 20, 192472),
    "dota": (1409, 15, 98990),
    "hrrsd": (21761, 13, 57137),
    "hrsc": (1055, 1, 1055),
    "levir": (3791, 3, 11028),
    "rsod": (936, 4, 7400),
    "sdd": (17351, 6, 355443),
    "visdrone": (6471, 11, 77547),
    "isaid": (30821, 15, 987239),
    "loveda": (4187, 6, 97989),
    "potsdam": (5421, 4, 92161),
    "vaihingen": (742, 4, 16875),
}


def stats(dataset: str | Path, plots: str | Path | None = None) -> dict[str, Any]:
    """Counts per split and source, class frequencies and caption-length histograms (words per caption).

    Args:
        dataset: the rs-dataset to describe.
        plots: a folder to draw the histograms into (None: no plots).

    Returns:
        ``rows_per_split``, ``images_per_source``, ``objects_per_source``, ``class_frequency``,
        ``label_frequency``, ``captions``, ``vocabulary`` and ``caption_length`` (mean and histogram).
    """
    if plots is not None:
        check_output(plots, [dataset], flag="--plots")
    ds = open_dataset(dataset)
    images: Counter[str] = Counter()
    objects: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    source_classes: dict[str, set[str]] = defaultdict(set)
    labels: Counter[str] = Counter()
    lengths: dict[str, Counter[int]] = defaultdict(Counter)
    vocabulary: set[str] = set()
    captions = 0
    for split in ds.splits:
        for batch in ds.iter_batches(split, columns=_COLUMNS, batch_size=4096):
            for row in batch.to_pylist():
                src = row["source"]
                images[src] += 1
                objs = row["objects"] or []
                objects[src] += len(objs)
                classes.update(o["label"] for o in objs)
                source_classes[src].update(o["label"] for o in objs)
                if row["label"] is not None:
                    names = ds.class_names or []
                    labels[names[row["label"]] if 0 <= row["label"] < len(names) else str(row["label"])] += 1
                for cap in row["captions"] or []:
                    words = cap.lower().rstrip(".").split()
                    lengths[src][len(words)] += 1
                    vocabulary.update(words)
                    captions += 1
    all_lengths: Counter[int] = sum(lengths.values(), Counter())
    n_len = sum(all_lengths.values())
    result: dict[str, Any] = {
        "path": str(ds.path),
        "name": ds.name,
        "kind": ds.kind,
        "rows_per_split": {s: ds.num_rows(s) for s in ds.splits},
        "images_per_source": dict(sorted(images.items())),
        "objects_per_source": dict(sorted(objects.items())),
        "class_frequency": dict(classes.most_common()),
        "label_frequency": dict(labels.most_common()),
        "captions": captions,
        "vocabulary": len(vocabulary),
        "caption_length": {
            "mean": round(sum(k * v for k, v in all_lengths.items()) / n_len, 3) if n_len else None,
            "histogram": {str(k): v for k, v in sorted(all_lengths.items())},
            "per_source": {s: {str(k): v for k, v in sorted(c.items())} for s, c in sorted(lengths.items())},
        },
        "table_i": {
            src: {
                "images": [images[src], paper[0]],
                "classes": [len(source_classes[src]) if objects[src] else None, paper[1]],
                "boxes": [objects[src] if objects[src] else None, paper[2]],
            }
            for src, paper in TABLE_I.items()
            if src in images
        },
    }
    if plots is not None:
        result["plots"] = [str(p) for p in _plot(result, Path(plots))]
    return result


def _plot(result: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []

    def bar(counts: dict[str, int], title: str, fname: str, top: int = 40) -> None:
        items = list(counts.items())[:top]
        fig, ax = plt.subplots(figsize=(7, max(2.0, 0.25 * len(items) + 1)))
        ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1], color="tab:blue")
        ax.set_title(title)
        ax.set_xlabel("count")
        fig.tight_layout()
        fig.savefig(out / fname, dpi=100)
        plt.close(fig)
        written.append(out / fname)

    per_source = dict(sorted(result["images_per_source"].items(), key=lambda kv: -kv[1]))
    bar(per_source, "images per source", "images_per_source.png")
    if result["class_frequency"]:
        bar(result["class_frequency"], "objects per class (top 40)", "class_frequency.png")
    if result["label_frequency"]:
        bar(result["label_frequency"], "images per class (top 40)", "label_frequency.png")
    per = result["caption_length"]["per_source"]
    if per:
        # Like the paper's Fig. 3: the distribution of words per caption, one curve per source.
        fig, ax = plt.subplots(figsize=(7, 4))
        for src, hist in per.items():
            xs = sorted(int(k) for k in hist)
            total = sum(hist.values())
            ax.plot(xs, [hist[str(x)] / total for x in xs], marker=".", label=src)
        ax.set_xlabel("words per caption")
        ax.set_ylabel("fraction of captions")
        ax.set_title("caption length")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "caption_length.png", dpi=100)
        plt.close(fig)
        written.append(out / "caption_length.png")
    (out / "stats.json").write_text(
        json.dumps({k: v for k, v in result.items() if k != "plots"}, indent=2) + "\n"
    )
    written.append(out / "stats.json")
    return written
