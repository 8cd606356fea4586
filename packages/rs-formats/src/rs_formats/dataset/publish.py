"""Publishing a dataset in a store, where there is no atomic rename: the manifest is the commit point.

Decisions:

- The writer builds the dataset in local scratch as it does for a local target (bounded shards, final
  names, checksums); publishing uploads ``data/`` to the prefix and then, last, ``manifest.json``. A
  reader refuses a prefix without a manifest, so until that one object is written nothing is published,
  and a killed upload leaves shards that no reader takes for a dataset.
- Replacing a dataset (``overwrite``) removes its manifest first, then its shards, then publishes: in
  between the prefix is not a dataset, rather than a mix of two. A prefix holding only ``data/`` (a write
  that never finished) is cleared and written without ``overwrite``; one holding anything else is ours
  to replace only with it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..location import Location
from .schema import DATA_DIR, MANIFEST


def check_target(target: Location, overwrite: bool) -> None:
    """FileExistsError unless ``target`` may receive a dataset (see the module's decisions)."""
    if overwrite or target.kind() == "missing":
        return
    names = set(target.list())
    if MANIFEST in names:
        raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
    if names - {DATA_DIR}:
        raise FileExistsError(
            f"{target}: holds {', '.join(sorted(names))}, not an rs-dataset; pass overwrite=True to replace it"
        )


def publish(tmp: Path, target: Location, overwrite: bool) -> None:
    """Upload a completed local staging directory to ``target``, the manifest last; ``tmp`` is removed."""
    import pyarrow.fs

    try:
        check_target(target, overwrite)
        (target / MANIFEST).delete()  # from here on the prefix is not a dataset until the new manifest
        target.delete()
        with target.failing("write the dataset there"):
            pyarrow.fs.copy_files(
                str(tmp / DATA_DIR),
                (target / DATA_DIR).path,
                source_filesystem=pyarrow.fs.LocalFileSystem(),
                destination_filesystem=target.fs,
            )
        (target / MANIFEST).write_bytes((tmp / MANIFEST).read_bytes())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
