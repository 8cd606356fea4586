"""Hugging Face Parquet datasets on disk, the form many remote-sensing evaluation sets take on the Hub: what
the image classification (:mod:`.hf_classification`) and image caption (:mod:`.hf_captions`) readers share.

The files are read with pyarrow; nothing is downloaded and Hugging Face's ``datasets`` is not needed.
What a column means comes from the Hugging Face features that ``datasets`` stores in every Parquet file it
writes (schema metadata key ``huggingface``): the images are the ``Image`` column (``struct<bytes, path>``,
or plain binary), the labels the ``ClassLabel`` column, whose ``names`` are the class names.

Rules (decisions the Hub's format leaves to us):

- Files: every ``*.parquet`` below ROOT in sorted path order, hidden folders (``.cache``) skipped. As
  for every reader, a file whose symlinks lead out of ROOT is refused unless ``follow_symlinks`` (a
  snapshot folder of the Hub cache links into the cache's blobs: pass it there; a ``--local-dir``
  download holds real files). Anything that is not a regular file is skipped and reported, never opened.
- Split of a file: ``split=NAME`` puts every file there; else ``<split>-NNNNN-of-MMMMM.parquet`` names it
  (what ``push_to_hub`` writes); else the nearest of the file name's leading word and its folders that is
  a split word of Hugging Face's (train, training, validation, valid, val, dev, test, testing, eval,
  evaluation), kept as written. A file whose split cannot be told is a :class:`BadInput`.
- Columns: ``image=``, ``label=``, ``captions=`` override the features; without them the one ``Image``
  and the one ``ClassLabel`` column are used, and captions come from the first of ``captions``,
  ``caption``, ``sentences``, ``text`` that exists (string or list of strings; ``captions=a,b`` joins
  several columns). Every file must agree on the class names.
- Class names go through :func:`~rs_annotate.classnames.normalize` with the known scene sets' tables
  (``golf_course`` -> ``golf course``); ``names=JSON`` adds your own. Two names that normalise alike are
  a :class:`BadInput`.
- Rows: ``image_id`` is ``<source>/<split>/<position in split>`` (Hub rows have no common id column); the
  file and row are kept in ``meta``. A row without embedded image bytes, without a label or without a
  caption is a :class:`BadInput` for that row (``--skip-bad`` skips it). Captions are cleaned as RET-3's
  (:func:`~rs_annotate.readers.ret3.clean_caption`). Images are decoded here and re-encoded by the
  pipeline like every source's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ..types import BadInput, Sample
from .base import Option, Reader, source_option, split_option
from .files import regular_file
from .hf_files import SPLIT_NAME, decode, file_split, hf_features, metadata, parquet_files, read_row

#: One item: (file index, row group, row within the group, split, position within the split).
Item = tuple[int, int, int, str, int]


class HFParquetReader(Reader):
    """The files and rows both readers share (options: :attr:`OPTIONS`)."""

    OPTIONS = (
        split_option(
            None,
            " (default: the file's: <split>-NNNNN-of-MMMMM.parquet, else a split word in its name or folders)",
        ),
        Option("image", None, "the image column (default: the one Image column of the features)"),
        source_option(None, "ROOT's folder name, lower-cased"),
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        forced = self.options["split"]
        if forced is not None and not SPLIT_NAME.fullmatch(str(forced)):
            raise ValueError(f"split must be letters, digits and '_', not {forced!r}")
        self.source = str(self.options["source"] or self.root.resolve().name).lower()
        self.files: list[Path] = []
        self._items: list[Item] = []
        positions: dict[str, int] = {}
        for path in self._files():
            split = file_split(path.relative_to(self.root), forced)
            if split is None or not SPLIT_NAME.fullmatch(split):
                raise BadInput(
                    path,
                    "cannot tell which split it holds: name it <split>-00000-of-00001.parquet, "
                    "put it in a <split>/ folder, or pass split=NAME",
                )
            meta = metadata(path)
            self._columns(path, meta.schema.to_arrow_schema())
            for group in range(meta.num_row_groups):
                for row in range(meta.row_group(group).num_rows):
                    self._items.append((len(self.files), group, row, split, positions.get(split, 0)))
                    positions[split] = positions.get(split, 0) + 1
            self.files.append(path)

    def _files(self) -> list[Path]:
        """The Parquet files below ROOT that lie inside it (or that ``follow_symlinks`` lets links reach);
        a FIFO, a device or a broken link named ``*.parquet`` is skipped and reported, never opened."""
        found = []
        for path in parquet_files(self.root):
            self.source_file(path)
            try:
                found.append(regular_file(path))
            except BadInput as exc:
                self.skipped.append(exc)
        return found

    def _column(
        self, path: Path, schema: pa.Schema, features: dict[str, Any], option: str, type_: str
    ) -> str:
        """The column an option names, else the one whose feature has ``_type`` ``type_``."""
        chosen = self.options[option]
        if chosen is None:
            typed = [
                n
                for n in schema.names
                if isinstance(features.get(n), dict) and features[n].get("_type") == type_
            ]
            if len(typed) != 1:
                raise BadInput(
                    path,
                    f"{'no' if not typed else 'more than one'} {type_} column in its Hugging Face "
                    f"features (columns: {', '.join(schema.names)}); pass {option}=COLUMN",
                )
            chosen = typed[0]
        if chosen not in schema.names:
            raise BadInput(path, f"has no column {chosen!r} (columns: {', '.join(schema.names)})")
        return chosen

    def _columns(self, path: Path, schema: pa.Schema) -> None:
        features = hf_features(path, schema)
        self.image_column = self._same(
            path, "image_column", self._column(path, schema, features, "image", "Image")
        )
        image_type = schema.field(self.image_column).type
        if pa.types.is_struct(image_type) and image_type.get_field_index("bytes") >= 0:
            encoded = image_type.field("bytes").type
        else:
            encoded = image_type
        if not (pa.types.is_binary(encoded) or pa.types.is_large_binary(encoded)):
            raise BadInput(
                path,
                f"image column {self.image_column!r} is {image_type}, not struct<bytes: binary, path> or binary",
            )
        self._more_columns(path, schema, features)

    def _more_columns(self, path: Path, schema: pa.Schema, features: dict[str, Any]) -> None:
        raise NotImplementedError

    def _same(self, path: Path, attribute: str, value: Any) -> Any:
        """``value``, which must be what the files before ``path`` gave for ``attribute``."""
        before = getattr(self, attribute, None)
        if before is not None and before != value:
            what = attribute.replace("_", " ")
            raise BadInput(
                path,
                f"its {what} {'are' if what.endswith('s') else 'is'} {value!r}, but "
                f"{self.files[0]}'s {'are' if what.endswith('s') else 'is'} {before!r}",
            )
        return value

    def items(self) -> Sequence[Item]:
        return list(self._items)

    def _row(self, item: Item, columns: tuple[str, ...]) -> tuple[dict[str, Any], np.ndarray, dict[str, Any]]:
        """One row's values, its decoded image and its provenance."""
        file_index, group, row, split, position = item
        path = self.files[file_index]
        where = f"row group {group}, row {row}"
        values = read_row(path, group, row, (self.image_column, *columns))
        image = values[self.image_column]
        data = image.get("bytes") if isinstance(image, dict) else image
        if not data:
            named = (
                f" (path only: {image.get('path')})" if isinstance(image, dict) and image.get("path") else ""
            )
            raise BadInput(path, f"{where}: no embedded image bytes{named}")
        meta = {"file": path.relative_to(self.root).as_posix(), "row_group": group, "row": row}
        if isinstance(image, dict) and image.get("path"):
            meta["image_path"] = image["path"]
        return values, decode(data, path, where), meta

    def _sample(self, item: Item, pixels: np.ndarray, meta: dict[str, Any], **fields: Any) -> Sample:
        split, position = item[3], item[4]
        return Sample(
            image_id=f"{self.source}/{split}/{position:06d}",
            source=self.source,
            image=pixels,
            split=split,
            meta=meta,
            **fields,
        )


LAYOUT = (
    "ROOT/                 a Hub dataset on disk (huggingface-cli download --repo-type dataset NAME "
    "--local-dir ROOT)\n  data/<split>-00000-of-00002.parquet   (or <split>/*.parquet, <split>.parquet)\n"
    "  README.md             the dataset card (not read)\n"
)
LICENSE = "per dataset: the licence its Hub dataset card (README.md) states; the Parquet files carry none"
URL = "https://huggingface.co/docs/datasets/image_dataset (the Parquet form datasets' push_to_hub writes)"
