"""``ConvertOptions``: everything ``convert`` can be told (the CLI's flags map one to one), and the part of
it that a run's report records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from rs_formats.imagery import ImageryOptions

from .b2c import B2CConfig
from .imaging import tile_windows

#: Encodings of re-encoded images (lower case, as the shared ``--image-format`` flag spells them).
IMAGE_FORMATS = ("jpeg", "png", "webp")
#: Where the per-item work runs: worker processes on this machine, or Ray Data on a Ray cluster
#: (:mod:`rs_annotate.ray_engine`, the ``rs-annotate[ray]`` extra). Both write the same rows.
ENGINES = ("local", "ray")
#: Splits whose rows are evaluation data: their images keep their original pixels unless told otherwise.
EVALUATION_SPLITS = ("test",)


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``convert`` can be told; the CLI flags map one to one."""

    #: Worker processes; None = all cores. 1 runs in this process. With the Ray engine: tasks at once
    #: (None: as many as the cluster has CPUs; the CPUs of a private local Ray).
    workers: int | None = None
    #: One of :data:`ENGINES`.
    engine: str = "local"
    #: Ray engine: the cluster's address (None: ``RAY_ADDRESS``, else a private local Ray).
    address: str | None = None
    #: Ray engine: times a task is retried after its worker process or node died, before the run fails.
    retries: int = 3
    #: Seed of the B2C captions (per image, whatever the worker count); replaces ``b2c.seed``.
    seed: int = 0
    #: Shorter side of stored images; None or 0 keeps the original size (re-encoding still applies).
    short_side: int | None = 256
    #: Original pixels (the file's bytes, or a lossless PNG where they cannot be kept) instead of the bounded
    #: re-encoding; boxes in original pixels. None: decided per row by :meth:`keeps_original`.
    keep_original: bool | None = None
    #: Encoding (one of :data:`IMAGE_FORMATS`, any case; "jpg" means jpeg) and quality of re-encoded images.
    image_format: str = "jpeg"
    jpeg_quality: int = 90
    #: Images that are not 8-bit RGB (:mod:`rs_formats.imagery`'s rule): 1-based bands shown as R, G, B
    #: (one: grey), a fixed (min, max) instead of the 2-98 percentile stretch, and a nodata value that
    #: replaces the file's own.
    bands: tuple[int, ...] | None = None
    value_range: tuple[float, float] | None = None
    nodata: float | None = None
    #: Cut images larger than this into ``tile`` x ``tile`` windows before resizing (None: no tiling).
    tile: int | None = None
    tile_overlap: int = 200
    #: A box cut by a tile edge is kept when at least this fraction of its area is inside the tile.
    tile_min_visible: float = 0.5
    #: Skip (count and report) bad items instead of failing on the first.
    skip_bad: bool = False
    #: Boxes with zero area or wholly outside the image: "error" (the image is bad input) or "drop".
    bad_boxes: str = "error"
    #: Images (or tiles) without any object: skipped and counted, or kept with ``empty_caption``.
    keep_empty: bool = False
    empty_caption: str = "There is no labelled object in this image."
    #: Put every row in this split instead of the reader's.
    split: str | None = None
    #: Dataset name in the manifest (default: the output directory's name).
    name: str | None = None
    reader_options: dict[str, Any] = field(default_factory=dict)
    b2c: B2CConfig = field(default_factory=B2CConfig)
    chunksize: int = 4
    #: Show a progress bar (only ever on a terminal; see :func:`rs_formats.console.progress`).
    progress: bool = True
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.bad_boxes not in ("error", "drop"):
            raise ValueError(f"bad_boxes must be 'error' or 'drop', got {self.bad_boxes!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")
        if self.short_side is not None and self.short_side < 0:
            raise ValueError(f"--short-side must be >= 0 (0 keeps the size), got {self.short_side}")
        if self.tile is not None and self.tile > 0:
            tile_windows(self.tile, self.tile, self.tile, self.tile_overlap)  # validates size/overlap
        if not 0 < self.tile_min_visible <= 1:
            raise ValueError(f"tile_min_visible must be in (0, 1], got {self.tile_min_visible}")
        image_format = {"jpg": "jpeg"}.get(self.image_format.lower(), self.image_format.lower())
        if image_format not in IMAGE_FORMATS:
            raise ValueError(
                f"image_format must be one of {', '.join(IMAGE_FORMATS)}, got {self.image_format!r}"
            )
        object.__setattr__(self, "image_format", image_format)  # one spelling in reports and comparisons
        imagery = self.imagery  # validates bands, value_range and nodata
        object.__setattr__(self, "bands", imagery.bands)
        object.__setattr__(self, "value_range", imagery.value_range)

    @property
    def imagery(self) -> ImageryOptions:
        """How images that are not 8-bit RGB become 8-bit RGB."""
        return ImageryOptions(bands=self.bands, value_range=self.value_range, nodata=self.nodata)

    def keeps_original(self, kind: str, split: str) -> bool:
        """Whether rows of this kind and split store original pixels.

        By default (``keep_original=None``) evaluation data does: every row of a classification set (the
        linear probe and k-NN embed its training split too) and the rows of :data:`EVALUATION_SPLITS`, so
        that evaluation sees the pixels the official protocol hands to CLIP's preprocessing (the original
        files). Training rows get the bounded re-encoding that keeps training fed.
        """
        if self.keep_original is not None:
            return self.keep_original
        return kind == "classification" or split in EVALUATION_SPLITS

    def to_json(self) -> dict[str, Any]:
        """What the run produces depends on (the report's ``options``); how it was executed is left out."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["b2c"] = asdict(replace(self.b2c, seed=self.seed))
        for k in ("workers", "engine", "address", "retries", "progress", "overwrite", "chunksize"):
            d.pop(k)
        return d
