"""Image embeddings of a dataset split computed on a Ray cluster with Ray Data: GPU actors when the
cluster has GPUs, CPU actors otherwise (the ``rs-clip-eval[ray]`` extra).

Decisions:

* The unit of work is the dataset's row group (the rs-dataset contract's unit of reading): the driver
  lists the row groups, each actor opens the dataset itself (every node must see it at the same absolute
  path) and reads, decodes, preprocesses and embeds whole row groups. Results come back in row order
  (``preserve_order``), so the driver writes them as :func:`rs_clip_models.encoding.encode_images` orders them.
* An actor loads the model once (:meth:`rs_clip_models.spec.ModelSpec.load`, on its own device: the GPU Ray
  gave it, else the CPU) and embeds under :func:`rs_clip_models.models.autocast` at the run's precision, as the
  local path does. It decodes and preprocesses with ``cpus_per_worker`` threads (PIL releases the GIL while
  decoding and resizing) so that a GPU is not starved by one core; the model's own preprocessing is
  applied whole, where the local path moves the ``ToTensor`` division to the device: the same arithmetic,
  so embeddings agree within float rounding (and batch composition).
* How many actors: ``workers`` (default: one per GPU, else one per CPU of the cluster). The cluster:
  ``address``, ``RAY_ADDRESS``, else a private local Ray (:func:`rs_formats.cluster.ray_session`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rs_clip_models.spec import ModelSpec
from rs_formats import location, open_dataset
from rs_formats.cluster import ordered_pipeline, ray_data_logs, ray_session

from .config import EvalConfig

try:
    import ray
    import ray.data
except ImportError as exc:  # the engine was asked for without its extra
    raise ValueError(
        f"--engine ray needs Ray Data: rs-clip-eval's ray extra (README.md, Install) ({exc})"
    ) from None

log = logging.getLogger(__name__)


def absolute(spec: ModelSpec) -> ModelSpec:
    """The spec with an absolute path: actors run in other directories and on other nodes."""
    return replace(spec, path=spec.path.expanduser().resolve()) if spec.path is not None else spec


class _Encoder:
    """A Ray Data actor: row group numbers in, ``image_id`` / ``embedding`` rows out."""

    def __init__(self, spec: ModelSpec, dataset: str, split: str, cfg: EvalConfig, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.dataset, self.split, self.cfg = open_dataset(dataset), split, cfg
        self.device = cfg.resolved_device()
        from rs_clip_models.models import load_spec

        self.model, self.preprocess, _ = load_spec(spec, self.device, cfg.precision)
        self.pool = ThreadPoolExecutor(threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        import torch

        from rs_clip_models.encoding import decode_image
        from rs_clip_models.models import autocast

        ids: list[str] = []
        vectors = []
        for group in batch["group"].tolist():
            table = self.dataset.read_row_group(self.split, group, ["image_id", "image"])
            group_ids = table.column("image_id").to_pylist()
            pixels = list(
                self.pool.map(
                    lambda pair: self.preprocess(
                        decode_image(pair[1], pair[0], dataset=self.dataset.path, split=self.split)
                    ),
                    zip(group_ids, table.column("image").to_pylist()),
                )
            )
            for start in range(0, len(pixels), self.cfg.batch_size):
                images = torch.stack(pixels[start : start + self.cfg.batch_size]).to(self.device)
                with torch.no_grad(), autocast(self.device, self.cfg.precision):
                    vectors.append(self.model.encode_image(images, normalize=True).float().cpu().numpy())
            ids.extend(group_ids)
        return {
            "image_id": np.array(ids, dtype=object),
            "embedding": np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32),
        }


def image_embeddings(
    spec: ModelSpec,
    dataset: str | Path | location.Location,
    split: str,
    cfg: EvalConfig,
    *,
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    gpus_per_worker: float | None = None,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """``(image ids, [n, D] float32)`` per row group of ``dataset``'s ``split``, in row order."""
    dataset = location.absolute(dataset)  # a URI as it is, with its endpoint options
    groups = len(open_dataset(dataset).row_groups(split))
    verbose = logging.getLogger("rs_clip_eval").isEnabledFor(logging.DEBUG)
    with ray_session(address, log_to_driver=False), ray_data_logs(verbose):
        gpus = (
            gpus_per_worker
            if gpus_per_worker is not None
            else (1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0)
        )
        have = ray.cluster_resources().get("GPU" if gpus else "CPU", 1) / (gpus or cpus_per_worker)
        size = max(1, min(workers or int(have), groups))
        log.info(
            "embedding %d row groups of %s/%s with %d Ray actor(s) (%g CPU, %g GPU each)",
            groups,
            dataset,
            split,
            size,
            cpus_per_worker,
            gpus,
        )
        data = ordered_pipeline(
            ray.data.from_items([{"group": g} for g in range(groups)], override_num_blocks=groups)
        )
        data = data.map_batches(
            _Encoder,
            batch_size=1,
            batch_format="numpy",
            num_cpus=cpus_per_worker,
            num_gpus=gpus,
            fn_constructor_kwargs={
                "spec": absolute(spec),
                "dataset": dataset,
                "split": split,
                "cfg": cfg,
                "threads": cpus_per_worker,
            },
            compute=ray.data.ActorPoolStrategy(size=size),
        )
        for batch in data.iter_batches(batch_size=None, batch_format="numpy"):
            yield batch["image_id"].tolist(), np.asarray(batch["embedding"], dtype=np.float32)
