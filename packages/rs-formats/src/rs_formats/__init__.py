"""rs-formats: the two contracts every rs-clip package speaks.

* ``rs-dataset`` v2 — ``manifest.json`` beside a ``data/`` folder of Parquet shards that other Parquet
  engines read natively; v1 still read (:mod:`rs_formats.dataset`).
* ``rs-clip-checkpoint`` v2 — ``manifest.json`` + ``open_clip_model.safetensors`` + ``open_clip_config.json``
  + ``README.md``, an open_clip Hub repository's layout (:mod:`rs_formats.checkpoint`; v1 is still read).

Loading models needs the ``torch`` extra and lives in :mod:`rs_formats.models` (imported on demand, so
``import rs_formats`` never imports torch); what a ``--model`` argument names is :mod:`rs_formats.spec`, the
model zoo :mod:`rs_formats.zoo`. Every public name is imported when first used (:mod:`rs_formats.lazy`).
"""

from .lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-formats",
    {
        ".checkpoint": (
            "CHECKPOINT_FORMAT",
            "CHECKPOINT_VERSION",
            "CheckpointInfo",
            "read_checkpoint",
            "verify_checkpoint",
            "write_checkpoint",
        ),
        ".dataset": (
            "DATASET_FORMAT",
            "DATASET_VERSION",
            "Dataset",
            "DatasetWriter",
            "dataset_schema",
            "open_dataset",
            "read_manifest",
            "verify_dataset",
        ),
        ".errors": ("FormatError",),
    },
)
