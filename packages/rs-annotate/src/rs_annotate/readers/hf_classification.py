"""Hugging Face Parquet image classification on disk (``hf-classification``): an Image column and a
ClassLabel column, whose names are the class names (rules: :mod:`.hf_parquet`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..classnames import normalize
from ..types import BadInput, Sample
from .base import Option, ReaderInfo, register
from .hf_parquet import LAYOUT, LICENSE, URL, HFParquetReader, Item
from .imagefolder import ImageFolderReader


@register
class HFClassificationReader(HFParquetReader):
    """An Image column and a ClassLabel column (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="hf-classification",
        title="Hugging Face Parquet image classification (an Image column and a ClassLabel column)",
        layout=LAYOUT + "columns: an Image column and a ClassLabel column (its names are the class names)",
        license=LICENSE,
        url=URL,
        kind="classification",
    )
    OPTIONS = (
        Option("label", None, "the label column (default: the one ClassLabel column of the features)"),
        Option(
            "names",
            None,
            "raw class name -> phrase (a dict, or JSON text), over the known scene sets' tables",
        ),
    )

    def _more_columns(self, path: Path, schema: pa.Schema, features: dict[str, Any]) -> None:
        self.label_column = self._same(
            path, "label_column", self._column(path, schema, features, "label", "ClassLabel")
        )
        label_type = schema.field(self.label_column).type
        if not pa.types.is_integer(label_type):
            raise BadInput(
                path, f"label column {self.label_column!r} is {label_type}, not the integers of a ClassLabel"
            )
        raw = (features.get(self.label_column) or {}).get("names")
        if not (isinstance(raw, list) and raw and all(isinstance(n, str) for n in raw)):
            raise BadInput(
                path, f"label column {self.label_column!r} has no ClassLabel names in its features"
            )
        self.raw_names = self._same(path, "raw_names", raw)
        table = {**ImageFolderReader.quirks.names, **_names_option(self.options["names"])}
        phrases: dict[str, str] = {}
        for name in raw:
            try:
                phrase = normalize(name, table)
            except ValueError as exc:
                raise BadInput(path, f"class name {name!r} gives no phrase: {exc}") from None
            if phrase in phrases:
                raise BadInput(path, f"class names {phrases[phrase]!r} and {name!r} both mean {phrase!r}")
            phrases[phrase] = name
        self.class_names = list(phrases)

    def read(self, item: Item) -> Sample:
        values, pixels, meta = self._row(item, (self.label_column,))
        label = values[self.label_column]
        if type(label) is not int or not 0 <= label < len(self.class_names):
            raise BadInput(
                self.files[item[0]],
                f"row group {item[1]}, row {item[2]}: label {label!r} is not a "
                f"class index (0 to {len(self.class_names) - 1})",
            )
        return self._sample(item, pixels, {**meta, "hf_label": self.raw_names[label]}, label=label)


def _names_option(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    names = json.loads(value) if isinstance(value, str) else value
    if not isinstance(names, dict):
        raise ValueError(f"names must map raw class names to phrases, not {names!r}")
    return names
