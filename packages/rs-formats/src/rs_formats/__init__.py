"""rs-formats: the contracts every rs-clip package speaks, torch-free.

* ``rs-dataset`` v2 — ``manifest.json`` beside a ``data/`` folder of Parquet shards that other Parquet
  engines read natively; v1 still read (:mod:`rs_formats.dataset`).
* ``rs-clip-checkpoint`` v2 — ``manifest.json`` + ``open_clip_model.safetensors`` + ``open_clip_config.json``
  + ``README.md``, an open_clip Hub repository's layout (:mod:`rs_formats.checkpoint`; v1 is still read).
* ``rs-clip-results`` v2 — the long results table every scoring tool writes (:mod:`rs_formats.results_table`).
* ``rs-clip-embeddings`` v1 — one model's embeddings of a dataset split (:mod:`rs_formats.embeddings`).

None imports torch. Writing a checkpoint from a network's tensors, and
loading one into a network, is the model runtime's job (the rs-clip-models package); docs/architecture.md
draws the layers. Every public name is imported when first used (:mod:`rs_formats.lazy`).
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
        ),
        ".dataset": (
            "DATASET_FORMAT",
            "DATASET_VERSION",
            "Dataset",
            "DatasetWriter",
            "check_new_dataset",
            "dataset_schema",
            "open_dataset",
            "read_manifest",
            "verify_dataset",
        ),
        ".errors": ("FormatError",),
    },
)
