"""Combining rs-datasets: ``merge`` (concatenate sources) and ``dedup`` (merge without near duplicates,
and without images that match an evaluation set).

Keep policy of ``dedup`` (README "De-duplication"): images are ranked by the order of the input
datasets (earlier wins: list your preferred sources first), then by split (``test`` before ``val``
before everything else, so a copy that sits in an evaluation split is the one kept and its training
twin is dropped), then by image_id. ``keep="largest"`` ranks the largest original image first instead,
with ties in that order. Any training image within the threshold of an image in an ``--against`` set is
removed whatever the policy, and listed in the report's ``contamination`` table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rs_formats import Dataset, DatasetWriter, FormatError, atomic, console, open_dataset
from rs_formats.location import Location
from rs_formats.outputs import check_output

from .near_duplicates import KEEP_POLICIES, cross_matches, keep_rank, plan_removals
from .phashes import HashTable, original_pixels
from .report import report_path, write_report
from .version import GENERATOR

_SPLIT_PRIORITY = {"test": 0, "val": 1, "validation": 1}


def _open_all(paths: Sequence[str | Path]) -> list[Dataset]:
    if not paths:
        raise ValueError("no input datasets given")
    datasets = [open_dataset(p) for p in paths]
    first = datasets[0]
    for ds in datasets[1:]:
        if ds.kind != first.kind:
            raise FormatError(
                ds.path / "manifest.json",
                f"kind {ds.kind!r} differs from {first.path}'s {first.kind!r}: cannot combine",
            )
        if ds.kind == "classification" and ds.class_names != first.class_names:
            raise FormatError(
                ds.path / "manifest.json",
                f"class_names differ from {first.path}'s: classification sets combine only "
                f"with the same classes in the same order",
            )
    return datasets


def _sources(datasets: Sequence[Dataset], kept: Counter | None = None) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for ds in datasets:
        for src in ds.manifest.get("sources") or []:
            entry = merged.setdefault(src["name"], {**src, "n_images": 0})
            entry["n_images"] += int(src.get("n_images", 0))
    if kept is not None:
        for name, entry in merged.items():
            entry["n_images"] = int(kept.get(name, 0))
    return list(merged.values())


def _writer(
    out: Path | Location,
    datasets: Sequence[Dataset],
    name: str | None,
    overwrite: bool,
    sources: list[dict[str, Any]],
) -> DatasetWriter:
    first = datasets[0]
    return DatasetWriter(
        out,
        name=name or out.name,
        kind=first.kind,
        generator=GENERATOR,
        class_names=first.class_names,
        sources=sources,
        overwrite=overwrite,
    )


def _inputs(datasets: Sequence[Dataset]) -> list[dict[str, Any]]:
    return [
        {
            "path": str(ds.path),
            "name": ds.name,
            "manifest_sha256": ds.manifest_sha256(),
            "rows": {s: ds.num_rows(s) for s in ds.splits},
        }
        for ds in datasets
    ]


def _copy_rows(
    writer: DatasetWriter,
    ds: Dataset,
    verb: str,
    origin: dict[str, str],
    skip: set[tuple[str, int]] | None = None,
) -> Counter:
    """Copy ``ds``'s rows (but ``skip``) into ``writer``; ``origin`` maps the ids written so far to their dataset."""
    per_source: Counter[str] = Counter()
    total = sum(ds.num_rows(s) for s in ds.splits)
    with console.progress(total=total, desc=f"{verb} {ds.name}", unit="row") as bar:
        for split in ds.splits:
            here, index = f"{ds.path} (split {split!r})", 0
            for batch in ds.iter_batches(split, batch_size=64):
                for row in batch.to_pylist():
                    if skip is None or (split, index) not in skip:
                        first = origin.setdefault(row["image_id"], here)
                        if first is not here:
                            raise FormatError(
                                ds.path,
                                f"split {split!r}: image id {row['image_id']!r} is also in "
                                f"{first}: ids must be unique in the combined dataset",
                            )
                        try:
                            writer.write(row, split=split)
                        except ValueError as exc:
                            raise FormatError(ds.path, f"split {split!r}: {exc}") from None
                        per_source[row["source"]] += 1
                    index += 1
                bar.update(batch.num_rows)
    return per_source


def merge(
    datasets: Sequence[str | Path],
    out: str | Path | Location,
    *,
    name: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Concatenate datasets of one kind (splits kept); image_ids must not collide.

    Args:
        datasets: the rs-datasets to concatenate, in order.
        out: the rs-dataset directory to write.
        name: the merged dataset's name (default: the output directory's).
        overwrite: replace an existing ``out``.

    Returns:
        ``{"out", "rows", "rows_per_source"}``.
    """
    out = check_output(out, datasets, overwrite)
    dss = _open_all(datasets)
    origin: dict[str, str] = {}
    with atomic.naming(out), _writer(out, dss, name, overwrite, _sources(dss)) as w:
        per_source: Counter[str] = Counter()
        for ds in dss:
            per_source += _copy_rows(w, ds, "merge", origin)
        w.stats["merge"] = {"inputs": _inputs(dss)}
    return {
        "out": str(out),
        "rows": sum(per_source.values()),
        "rows_per_source": dict(sorted(per_source.items())),
    }


def dedup(
    datasets: Sequence[str | Path],
    out: str | Path,
    *,
    against: Sequence[str | Path] = (),
    against_splits: Sequence[str] | None = None,
    threshold: int = 2,
    keep: str = "first",
    name: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Merge ``datasets`` into ``out`` without near duplicates and without images of ``against``.

    Hashes are streamed (:class:`~rs_annotate.phashes.HashTable`); image ids and sizes are read only
    for the rows that have a near or exact twin.

    Args:
        datasets: the training rs-datasets to merge.
        out: the rs-dataset directory to write.
        against: evaluation rs-datasets: a training image within ``threshold`` of one of theirs is removed.
        against_splits: which of their splits count (default: all).
        threshold: the largest pHash Hamming distance that makes two images near duplicates.
        keep: which copy of a group survives: ``"first"`` (input order) or ``"largest"`` (original size).
        name: the merged dataset's name (default: the output directory's).
        overwrite: replace an existing ``out``.

    Returns:
        The report (also written to ``<out>.report.json``): rows in and out, removals by reason and source,
        and every removed pair with its distance.
    """
    if keep not in KEEP_POLICIES:
        raise ValueError(f"unknown keep policy {keep!r}; choose one of {KEEP_POLICIES}")
    out = check_output(out, [*datasets, *against], overwrite)
    dss = _open_all(datasets)
    tests = [open_dataset(p) for p in against]
    table = HashTable(dss)
    test_table = HashTable(tests, against_splits)
    matches = cross_matches(table.hashes, test_table.hashes, threshold)
    contaminated = np.zeros(len(table), dtype=bool)
    contaminated[matches[:, 0]] = True
    info: dict[int, dict[str, Any]] = {}  # global row -> image_id, split, ... of the rows looked at

    def lookup(rows: np.ndarray) -> list[dict[str, Any]]:
        new = [r for r in dict.fromkeys(rows.tolist()) if r not in info]
        columns = ["image_id", "source"] + (["width", "height", "meta"] if keep == "largest" else [])
        info.update(zip(new, table.rows(new, columns)))
        return [info[r] for r in rows.tolist()]

    def rank(rows: np.ndarray) -> np.ndarray:
        found = lookup(rows)
        keys = [(r["dataset"], _SPLIT_PRIORITY.get(r["split"], 2), r["image_id"]) for r in found]
        return keep_rank(keys, [original_pixels(r) for r in found] if keep == "largest" else None, keep)

    removals = plan_removals(table.hashes, rank, threshold, candidates=~contaminated)

    def ref(r: dict[str, Any], pool: Sequence[Dataset]) -> dict[str, Any]:
        return {"image_id": r["image_id"], "dataset": str(pool[r["dataset"]].path), "split": r["split"]}

    tested = test_table.rows(matches[:, 1], ["image_id"])
    contamination = [
        {**ref(r, dss), "test": ref(t, tests), "distance": int(dist)}
        for r, t, dist in zip(lookup(matches[:, 0]), tested, matches[:, 2].tolist())
    ]
    duplicates = [
        {**ref(r, dss), "duplicate_of": ref(k, dss), "distance": int(dist)}
        for r, k, dist in zip(lookup(removals[:, 0]), lookup(removals[:, 1]), removals[:, 2].tolist())
    ]
    gone = np.union1d(matches[:, 0], removals[:, 0])
    gone_rows = lookup(gone)
    skip: list[set[tuple[str, int]]] = [set() for _ in dss]
    for r in gone_rows:
        skip[r["dataset"]].add((r["split"], r["index"]))
    removed_sources = Counter(r["source"] for r in gone_rows)
    report: dict[str, Any] = {
        "out": str(out),
        "threshold": threshold,
        "keep": keep,
        "inputs": [str(ds.path) for ds in dss],
        "against": [str(ds.path) for ds in tests],
        "rows_in": len(table),
        "rows_out": len(table) - gone.size,
        "removed_duplicates": len(duplicates),
        "removed_contaminated": int(contaminated.sum()),
        "removed_per_source": dict(sorted(removed_sources.items())),
        # training rows matching each evaluation set (a row matching two sets counts for both)
        "contaminated_per_against": {
            str(ds.path): len(
                {(c["dataset"], c["image_id"]) for c in contamination if c["test"]["dataset"] == str(ds.path)}
            )
            for ds in tests
        },
        "contamination": contamination,
        "duplicates": duplicates,
    }
    if report["rows_out"] == 0:
        write_report(report_path(out), report)
        raise ValueError(
            f"de-duplication would leave an empty dataset (nothing written; see {report_path(out)})"
        )
    origin: dict[str, str] = {}
    with (
        atomic.naming(out),
        _writer(out, dss, name, overwrite, _sources(dss, table.sources - removed_sources)) as w,
    ):
        for ds, sk in zip(dss, skip):
            _copy_rows(w, ds, "dedup", origin, sk)
        w.stats["dedup"] = {
            k: report[k]
            for k in (
                "threshold",
                "keep",
                "rows_in",
                "rows_out",
                "removed_duplicates",
                "removed_contaminated",
                "removed_per_source",
            )
        }
        w.stats["dedup"]["inputs"] = _inputs(dss)
        w.stats["dedup"]["against"] = _inputs(tests)
    write_report(report_path(out), report)
    return report
