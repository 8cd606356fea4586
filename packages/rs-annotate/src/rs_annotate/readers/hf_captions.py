"""Hugging Face Parquet image captions on disk (``hf-captions``): an Image column and caption column(s)
(rules: :mod:`.hf_parquet`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from ..types import BadInput, Sample
from .base import Option, ReaderInfo, register
from .files import names_option
from .hf_parquet import LAYOUT, LICENSE, URL, HFParquetReader, Item
from .ret3 import clean_caption

CAPTION_COLUMNS = ("captions", "caption", "sentences", "text")


@register
class HFCaptionsReader(HFParquetReader):
    """An Image column and caption column(s) (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="hf-captions",
        title="Hugging Face Parquet image captions (an Image column and caption column(s))",
        layout=LAYOUT
        + f"columns: an Image column and captions ({', '.join(CAPTION_COLUMNS)}: string or list)",
        license=LICENSE,
        url=URL,
        kind="captions",
    )
    OPTIONS = (
        Option(
            "captions",
            None,
            f"caption column(s), comma-separated (default: the first of {', '.join(CAPTION_COLUMNS)})",
        ),
    )

    def _more_columns(self, path: Path, schema: pa.Schema, features: dict[str, Any]) -> None:
        wanted = self.options["captions"]
        found = [c for c in CAPTION_COLUMNS if c in schema.names][:1]
        self.caption_columns = tuple(names_option(wanted)) if wanted else tuple(found)
        if not self.caption_columns:
            raise BadInput(
                path,
                f"no caption column ({', '.join(CAPTION_COLUMNS)}; columns: "
                f"{', '.join(schema.names)}); pass captions=COLUMN",
            )
        for column in self.caption_columns:
            if column not in schema.names:
                raise BadInput(path, f"has no column {column!r} (columns: {', '.join(schema.names)})")
            type_ = schema.field(column).type
            if pa.types.is_list(type_) or pa.types.is_large_list(type_):
                type_ = type_.value_type
            if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
                raise BadInput(path, f"caption column {column!r} is {schema.field(column).type}, not text")

    def read(self, item: Item) -> Sample:
        values, pixels, meta = self._row(item, self.caption_columns)
        captions: list[str] = []
        for column in self.caption_columns:
            value = values[column]
            captions += [value] if isinstance(value, str) else list(value or [])
        captions = [clean_caption(c) for c in captions if c and c.strip()]
        if not captions:
            raise BadInput(self.files[item[0]], f"row group {item[1]}, row {item[2]}: no caption")
        return self._sample(item, pixels, meta, captions=captions)
