"""CLIP_benchmark's WebDataset evaluation sets on disk (``clip-benchmark-wds``): the ``wds_<name>`` folders
``clip_benchmark_export_wds`` writes and ``huggingface-cli download clip-benchmark/wds_<name>`` fetches.

The layout is clip_benchmark's (``clip_benchmark.datasets.builder.build_wds_dataset``): ``<split>/nshards.txt``
and shards ``<split>/0.tar`` .. ``<N-1>.tar``; ``dataset_type.txt`` (``retrieval``; absent or
``classification``: a zero-shot set; ``multilabel`` is refused, an rs-dataset row has one label);
``classnames.txt`` (one class a line, index = label) for classification sets. In a shard, members are
grouped into samples by webdataset's rule (the name up to the first dot of its file name is the key); the
image is the first of ``.webp``, ``.png``, ``.jpg``, ``.jpeg`` (clip_benchmark's order), the label the
``.cls`` member (a decimal index), the captions the ``.txt`` member's lines (the ``\\n`` that
clip_benchmark writes for a line break inside a caption becomes a space).

Rules (decisions the layout leaves to us):

- Splits: every folder with an ``nshards.txt``, sorted (``splits=`` picks some); a shard it counts that is
  missing is a :class:`BadInput`. Tar files are read with the standard library, member by member, never
  extracted; links and other non-regular members are skipped and reported.
- ``image_id`` is ``<source>/<split>/<key>``; the source is the folder name without ``wds_``, lower-cased
  (``source=`` sets it). Class names go through :func:`~rs_annotate.classnames.normalize` (two that mean
  the same are a :class:`BadInput`). Captions are cleaned as RET-3's and kept as many as the sample has
  (``n_captions=5`` fits them to five, as RET-3's reader does).
- ``zeroshot_classification_templates.txt`` is not carried into the dataset: rs-clip-eval's zero-shot uses
  its own template sets; pass the set's templates (``{c}`` written ``{}``) to score as clip_benchmark does.
- Licence and source per known set (:data:`KNOWN_SETS`); any other ``wds_`` set reads the same, its licence
  being its original dataset's.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..classnames import normalize
from ..types import BadInput, Sample
from .base import Option, Reader, ReaderInfo, chosen_splits, register, source_option
from .files import read_text, regular_file
from .hf_files import decode
from .ret3 import clean_caption, fit_captions

IMAGE_EXTENSIONS = ("webp", "png", "jpg", "jpeg")
_KEY = re.compile(r"^((?:.*/|)[^./]+)\.([^/]*)$")  # webdataset's base_plus_ext
_KINDS = {"retrieval": "captions", "classification": "classification"}


@dataclass(frozen=True)
class WdsSet:
    title: str
    license: str
    url: str


_HUB = "https://huggingface.co/datasets/clip-benchmark/wds_"
#: The remote-sensing sets CLIP_benchmark publishes, by their name without ``wds_``.
KNOWN_SETS = {
    "vtab-eurosat": WdsSet(
        "EuroSAT (VTAB split)", "MIT (EuroSAT, Helber et al. 2019)", f"{_HUB}vtab-eurosat"
    ),
    "vtab-resisc45": WdsSet(
        "NWPU-RESISC45 (VTAB split)",
        "free for research use (Cheng et al. 2017); check the authors' terms",
        f"{_HUB}vtab-resisc45",
    ),
    "eurosat": WdsSet("EuroSAT", "MIT (EuroSAT, Helber et al. 2019)", f"{_HUB}eurosat"),
}
_ANY = WdsSet(
    "a CLIP_benchmark WebDataset set",
    "per dataset: the licence of the dataset clip_benchmark converted",
    "https://github.com/LAION-AI/CLIP_benchmark (wds_<name> on the Hugging Face Hub: clip-benchmark/)",
)

#: One item: (split, tar file, key, {extension: (data offset, size)}).
Item = tuple[str, str, str, dict[str, tuple[int, int]]]


@register
class ClipBenchmarkWdsReader(Reader):
    """A ``wds_<name>`` folder, zero-shot classification or retrieval (options: :attr:`OPTIONS`)."""

    info = ReaderInfo(
        name="clip-benchmark-wds",
        title="CLIP_benchmark's WebDataset evaluation sets (wds_<name>: zero-shot classification or retrieval)",
        layout="wds_<name>/\n  test/nshards.txt\n  test/0.tar ... (N-1).tar   <key>.webp|png|jpg + .cls "
        "(classification) or .txt (retrieval: one caption a line)\n  classnames.txt   "
        "(classification)\n  dataset_type.txt   (retrieval; absent: classification)\n"
        f"(known sets: {', '.join(sorted(KNOWN_SETS))})",
        license=_ANY.license,
        url=_ANY.url,
        kind="classification or captions (dataset_type.txt)",
    )
    OPTIONS = (
        Option("splits", None, "splits to include, e.g. test (default: every folder with an nshards.txt)"),
        source_option(None, "the folder name without wds_, lower-cased"),
        Option("n_captions", None, "captions per image: fit to this many (None: as many as each has)"),
    )

    def __init__(self, root: str | Path, **options: Any):
        super().__init__(root, **options)
        folder = self.root.resolve().name.lower()
        self.source = str(self.options["source"] or folder.removeprefix("wds_"))
        self.known = KNOWN_SETS.get(self.source, _ANY)
        type_file = self.root / "dataset_type.txt"
        dataset_type = read_text(type_file).strip().lower() if type_file.exists() else "classification"
        if dataset_type not in _KINDS:
            raise BadInput(
                type_file,
                f"dataset type {dataset_type!r}: only retrieval and classification sets "
                "are read (an rs-dataset row has one label)",
            )
        self._kind = _KINDS[dataset_type]
        if self._kind == "classification":
            self.class_names = self._class_names(self.root / "classnames.txt")
        available = sorted(p.parent.name for p in self.root.glob("*/nshards.txt"))
        self._items: list[Item] = []
        for split in chosen_splits(self.root, self.options["splits"], available):
            self._list_split(split)

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def license(self) -> str:
        return self.known.license

    @property
    def url(self) -> str:
        return self.known.url

    def _class_names(self, path: Path) -> list[str]:
        if not path.exists():
            raise BadInput(path, "missing: a classification set names its classes there, one a line")
        names: dict[str, int] = {}
        for line, raw in enumerate(read_text(path).splitlines(), start=1):
            try:
                phrase = normalize(raw.strip())
            except ValueError as exc:
                raise BadInput(path, f"class name {raw!r} gives no phrase: {exc}", line) from None
            if phrase in names:
                raise BadInput(path, f"{raw.strip()!r} means {phrase!r}, as line {names[phrase]} does", line)
            names[phrase] = line
        if not names:
            raise BadInput(path, "names no class")
        return list(names)

    def _list_split(self, split: str) -> None:
        count_file = self.root / split / "nshards.txt"
        text = read_text(count_file).strip()
        if not text.isdigit() or int(text) < 1:
            raise BadInput(count_file, f"{text!r} is not a number of shards", 1)
        for index in range(int(text)):
            shard = self.root / split / f"{index}.tar"
            if not shard.exists():
                raise BadInput(shard, f"missing: {count_file} counts {text} shards")
            self.source_file(shard)
            groups: dict[str, dict[str, tuple[int, int]]] = {}
            for member in _members(shard):
                match = _KEY.match(member.name)
                if member.isdir():
                    continue
                if not member.isreg() or match is None:
                    what = "not a regular file" if not member.isreg() else "a name without an extension"
                    self.skipped.append(BadInput(shard, f"member {member.name!r}: {what}; skipped"))
                    continue
                key, ext = match.group(1), match.group(2).lower()
                if ext in groups.setdefault(key, {}):
                    raise BadInput(shard, f"member {member.name!r}: sample {key!r} has two .{ext} members")
                groups[key][ext] = (member.offset_data, member.size)
            self._items += [(split, str(shard), key, members) for key, members in groups.items()]

    def items(self) -> Sequence[Item]:
        return list(self._items)

    def read(self, item: Item) -> Sample:
        split, shard, key, members = item
        where = f"sample {key!r}"
        ext = next((e for e in IMAGE_EXTENSIONS if e in members), None)
        if ext is None:
            raise BadInput(shard, f"{where}: no image ({', '.join(IMAGE_EXTENSIONS)})")
        fields: dict[str, Any] = {}
        if self._kind == "classification":
            text = _member(shard, members, "cls", where).decode("utf-8", "replace").strip()
            if not text.isdigit() or int(text) >= len(self.class_names or ()):
                raise BadInput(
                    shard,
                    f"{where}: label {text!r} is not a class index (0 to {len(self.class_names or ()) - 1})",
                )
            fields["label"] = int(text)
        else:
            lines = _member(shard, members, "txt", where).decode("utf-8", "replace").splitlines()
            captions = [clean_caption(c.replace("\\n", " ")) for c in lines if c.strip()]
            if not captions:
                raise BadInput(shard, f"{where}: no caption")
            fields["captions"] = fit_captions(captions, self.options["n_captions"])
        pixels = decode(_member(shard, members, ext, where), Path(shard), where)
        return Sample(
            image_id=f"{self.source}/{split}/{key}",
            source=self.source,
            image=pixels,
            split=split,
            meta={"shard": Path(shard).relative_to(self.root).as_posix(), "key": key, "image_format": ext},
            **fields,
        )


def _members(path: Path) -> list[tarfile.TarInfo]:
    """The tar file's member headers (the data is skipped, never extracted)."""
    try:
        with open(regular_file(path), "rb") as f, tarfile.open(fileobj=f, mode="r:") as tar:
            return tar.getmembers()
    except tarfile.TarError as exc:
        raise BadInput(path, f"not a readable tar file ({exc})") from None


def _member(shard: str, members: dict[str, tuple[int, int]], ext: str, where: str) -> bytes:
    if ext not in members:
        raise BadInput(shard, f"{where}: no .{ext} member")
    offset, size = members[ext]
    with open(shard, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise BadInput(shard, f"{where}: .{ext} member cut short")
    return data
