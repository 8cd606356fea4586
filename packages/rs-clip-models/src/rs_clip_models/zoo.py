"""The model zoo: CLIP-family remote-sensing weights people have on disk, and the network each one needs.

A weights file does not say which network it belongs to, and GELU and QuickGELU builds of one architecture
have identical keys and shapes, so loading cannot catch the wrong one: it runs and gives other embeddings.
Each entry therefore records what its publisher trained with, checked in the publisher's own code (the
``source`` of each entry), and says so where that could not be checked:

* OpenAI CLIP: QuickGELU in both towers (``clip/model.py``; RN50's image tower is a ReLU ResNet). The
  original ``.pt`` files are TorchScript archives (:mod:`rs_clip_models.weights` reads them as open_clip does).
* RemoteCLIP: continued from OpenAI's weights with open_clip/ITRA; the authors' evaluation script builds
  the model with ``pretrained='openai'``, which meant QuickGELU in every open_clip of its time (up to
  2.28). The training activation itself is never stated, so QuickGELU here is an inference.
* GeoRSCLIP (RS5M): ViT-B-32 continued from ``openai`` (QuickGELU as their code builds it), ViT-H-14 from
  ``laion2b_s32b_b79k`` (GELU). Their code documents no ViT-L-14: its initialisation and activation are
  unknown; QuickGELU is assumed by analogy with their ViT-B-32, and loading it says so.
* SkyCLIP: ViT-L-14 from ``openai`` trained with ``--force-quick-gelu`` (QuickGELU), ViT-B-32 from
  ``laion2b_e16`` (GELU). Released as zips of an open_clip training checkpoint (``{"state_dict": ...}``
  with DDP's ``module.`` prefix); the zips' contents were not inspected.

open_clip 3.3.0's ``pretrained='openai'`` no longer forces QuickGELU (since 2.29.0: it warns only), so an
entry names the ``-quickgelu`` config outright. A ``--model`` spec names an entry as ``ENTRY:FILE``, or just
``FILE`` when the file keeps its usual name (:mod:`rs_clip_models.sources`). ``rs-clip-models zoo`` prints the table,
and docs/zoo.md holds the same table (:func:`markdown`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ZOO", "ZooEntry", "entry_for_file", "get", "is_torchscript", "markdown"]

TORCHSCRIPT = "TorchScript archive"
STATE_DICT = "plain state dict (torch.save)"
TRAINING_CHECKPOINT = "zip of an open_clip training checkpoint (state_dict, module. prefix)"

_OPENAI_SRC = (
    "openai/CLIP clip/model.py (QuickGELU in ResidualAttentionBlock), clip/clip.py (_MODELS: file "
    "names, sha256 in the URLs)"
)
_RC_SRC = (
    "ChenDelong1999/RemoteCLIP retrieval.py (create_model_and_transforms(..., pretrained='openai'), then "
    "load_state_dict), README, HF chendelong/RemoteCLIP (file names, sizes, sha256)"
)
_GEO_SRC = "om-ai-lab/RS5M README.md, inference/inference.py, inference/convert_weight.py; HF Zilun/GeoRSCLIP"
_SKY_SRC = (
    "wangzhecheng/SkyScript README.md (pretrained openai for ViT-L-14, laion2b_e16 for ViT-B-32), "
    "notebooks (force_quick_gelu=True for ViT-L-14), bundled open_clip 2.20.0"
)


@dataclass(frozen=True)
class ZooEntry:
    name: str
    publisher: str
    #: open_clip's base architecture name.
    architecture: str
    quick_gelu: bool
    #: "confirmed" (publisher's code), "inferred" (from how the publisher loads it), "unknown".
    evidence: str
    #: The usual file names (a file keeping one of these names needs no ``ENTRY:`` in a spec).
    files: tuple[str, ...]
    file_format: str
    #: How the publisher loads it.
    loading: str
    source: str
    #: Published sha256 of the files that have one, as (file name, sha256).
    sha256: tuple[tuple[str, str], ...] = ()
    note: str = ""

    @property
    def model(self) -> str:
        """The open_clip config this entry builds (the architecture's ``-quickgelu`` variant when QuickGELU)."""
        return f"{self.architecture}-quickgelu" if self.quick_gelu else self.architecture

    @property
    def activation(self) -> str:
        return "QuickGELU" if self.quick_gelu else "GELU"

    def describe(self) -> str:
        """``remoteclip-vit-b-32 (ViT-B-32-quickgelu, QuickGELU)``, for messages."""
        return f"{self.name} ({self.model}, {self.activation})"


def _openai(arch: str, clip_name: str, sha: str) -> ZooEntry:
    file = f"{arch}.pt"
    return ZooEntry(
        f"openai-{arch.lower()}",
        "OpenAI CLIP",
        arch,
        True,
        "confirmed",
        (file,),
        TORCHSCRIPT,
        f"clip.load('{clip_name}'); open_clip.load_openai_model(path) (QuickGELU)",
        _OPENAI_SRC,
        ((file, sha),),
        "RN50's image tower is a ReLU ResNet: the activation is the text tower's" if arch == "RN50" else "",
    )


def _remoteclip(arch: str, sha: str) -> ZooEntry:
    file = f"RemoteCLIP-{arch}.pt"
    return ZooEntry(
        f"remoteclip-{arch.lower()}",
        "RemoteCLIP (Liu, Chen et al. 2023)",
        arch,
        True,
        "inferred",
        (file,),
        STATE_DICT,
        f"create_model_and_transforms('{arch}', pretrained='openai') then load_state_dict(torch.load"
        "(path)); QuickGELU under open_clip <= 2.28",
        _RC_SRC,
        ((file, sha),),
        "training activation not stated; the README/demo snippet builds GELU, the evaluation script QuickGELU",
    )


#: Every entry, by name. Names are lowercase and start with the publisher, so none is an open_clip model name.
ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        _openai("RN50", "RN50", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762"),
        _openai("ViT-B-32", "ViT-B/32", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"),
        _openai("ViT-L-14", "ViT-L/14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"),
        _remoteclip("RN50", "11657d33a87fc197e19a7654a76a632415ebea42feb8a61025ef389f8990c0f9"),
        _remoteclip("ViT-B-32", "60014e395d930a3f2963d1d89c8522bf4ad56775571e4356e866864789af85c4"),
        _remoteclip("ViT-L-14", "fcc2a7e21e171f4ffcb7a9c0206b8b74ac0c9eb83c67b576958b7a4ed6c8cecb"),
        ZooEntry(
            "georsclip-vit-b-32",
            "GeoRSCLIP (RS5M)",
            "ViT-B-32",
            True,
            "inferred",
            ("RS5M_ViT-B-32.pt", "RS5M_ViT-B-32_RET-2.pt", "RS5M_ViT-B-32_RSICD.pt"),
            STATE_DICT,
            "create_model_and_transforms('ViT-B/32', pretrained='openai') then load_state_dict",
            _GEO_SRC,
            note="continued from openai (their code); QuickGELU is what that call built in their open_clip; "
            "_RET-2 and _RSICD are retrieval fine-tunes",
        ),
        ZooEntry(
            "georsclip-vit-l-14",
            "GeoRSCLIP (RS5M)",
            "ViT-L-14",
            True,
            "unknown",
            ("RS5M_ViT-L-14.pt",),
            STATE_DICT,
            "not documented by the publisher",
            _GEO_SRC + " (ViT-L-14 not documented)",
            (("RS5M_ViT-L-14.pt", "9119b7731c17dd66fae13619203f33900946fe0660095ed54d8e6c7cfe8d03c0"),),
            "initialisation and activation unknown; QuickGELU assumed like their ViT-B-32 (ViT-L-14:FILE "
            "builds GELU); format not checked",
        ),
        ZooEntry(
            "georsclip-vit-l-14-336",
            "GeoRSCLIP (RS5M)",
            "ViT-L-14-336",
            True,
            "unknown",
            ("RS5M_ViT-L-14-336.pt",),
            STATE_DICT,
            "not documented by the publisher",
            _GEO_SRC + " (ViT-L-14-336 not documented)",
            (("RS5M_ViT-L-14-336.pt", "b0c2c660e917a7235f7aec346556d2696cbf419249cf75bcd8c17b822b76428c"),),
            "initialisation and activation unknown; QuickGELU assumed like their ViT-B-32 (ViT-L-14-336:FILE "
            "builds GELU); format not checked",
        ),
        ZooEntry(
            "georsclip-vit-h-14",
            "GeoRSCLIP (RS5M)",
            "ViT-H-14",
            False,
            "confirmed",
            ("RS5M_ViT-H-14.pt",),
            STATE_DICT,
            "create_model_and_transforms('ViT-H/14', pretrained='laion2b_s32b_b79k') then load_state_dict",
            _GEO_SRC,
            note="continued from laion2b_s32b_b79k, a GELU tag",
        ),
        ZooEntry(
            "skyclip-vit-l-14",
            "SkyCLIP (SkyScript)",
            "ViT-L-14",
            True,
            "confirmed",
            (
                "SkyCLIP_ViT_L14_top30pct.zip",
                "SkyCLIP_ViT_L14_top50pct.zip",
                "SkyCLIP_ViT_L14_top30pct_filtered_by_CLIP_laion_RS.zip",
                "SkyCLIP_ViT_L14_top30pct_multi_objects.zip",
            ),
            TRAINING_CHECKPOINT,
            "create_model_and_transforms('ViT-L-14', path, force_quick_gelu=True)",
            _SKY_SRC,
            note="unzip and give the .pt inside (e.g. FOLDER/epoch_20.pt: known by its folder's name)",
        ),
        ZooEntry(
            "skyclip-vit-b-32",
            "SkyCLIP (SkyScript)",
            "ViT-B-32",
            False,
            "confirmed",
            ("SkyCLIP_ViT_B32_top50pct.zip",),
            TRAINING_CHECKPOINT,
            "create_model_and_transforms('ViT-B-32', path)",
            _SKY_SRC,
            note="continued from laion2b_e16, a GELU tag; unzip and give the .pt inside",
        ),
    )
}


def get(name: str) -> ZooEntry | None:
    """The entry called ``name`` (case-insensitive), or None."""
    return ZOO.get(name.lower())


def entry_for_file(path: str | Path) -> ZooEntry | None:
    """The entry whose usual file name ``path`` has, or whose zip ``path``'s folder was unpacked from."""
    path = Path(path)
    names = {path.name.lower(), f"{path.parent.name}.zip".lower()}
    return next((e for e in ZOO.values() if names & {f.lower() for f in e.files}), None)


def markdown() -> str:
    """The zoo as a Markdown table, then the published checksums (docs/zoo.md holds exactly this)."""
    rows = [
        "| entry (spec) | publisher | open_clip model | activation | usual file name(s) | format | "
        "how the publisher loads it | source checked | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in ZOO.values():
        evidence = {"confirmed": "", "inferred": " (inferred)", "unknown": " (**unknown**, assumed)"}[
            e.evidence
        ]
        rows.append(
            f"| `{e.name}` | {e.publisher} | `{e.model}` | {e.activation}{evidence} | "
            f"{', '.join(f'`{f}`' for f in e.files)} | {e.file_format} | {e.loading} | {e.source} | "
            f"{e.note or '-'} |"
        )
    sums = [f"- `{file}`: `{sha}`" for e in ZOO.values() for file, sha in e.sha256]
    return (
        "\n".join(rows)
        + "\n\nPublished sha256 (from the publishers' URLs or Hugging Face LFS pointers):\n\n"
        + "\n".join(sums)
        + "\n"
    )


def is_torchscript(path: str | Path) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with ``constants.pkl``, as torch itself tells them)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(name.split("/", 1)[-1] == "constants.pkl" for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
