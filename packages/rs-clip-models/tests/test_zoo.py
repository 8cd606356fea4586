"""The model zoo and the ``--model`` grammar: which network a weights file builds.

The expected activations below are the publishers' (docs/zoo.md cites where each was read), written here
independently of rs_clip_models.zoo's table. Real architectures are built on the meta device (no memory, no
initialisation) except where weights are loaded and embeddings compared (one ViT-B-32, module-scoped).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import pickle
import warnings
import zipfile
from pathlib import Path

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU

from rs_clip_models import zoo
from rs_clip_models.models import TINY_MODEL, build_network, create_model, load_spec
from rs_clip_models.spec import ModelSpec
from rs_clip_models.weights import is_torchscript, load_state_dict
from rs_formats import FormatError

ROOT = Path(__file__).resolve().parents[3]

# entry -> (open_clip architecture, QuickGELU?) as each publisher trained it (QuickGELU for the two GeoRSCLIP
# ViT-L-14 entries is the zoo's stated assumption: their publisher documents neither).
PUBLISHED = {
    "openai-rn50": ("RN50", True),
    "openai-vit-b-32": ("ViT-B-32", True),
    "openai-vit-l-14": ("ViT-L-14", True),
    "remoteclip-rn50": ("RN50", True),
    "remoteclip-vit-b-32": ("ViT-B-32", True),
    "remoteclip-vit-l-14": ("ViT-L-14", True),
    "georsclip-vit-b-32": ("ViT-B-32", True),
    "georsclip-vit-l-14": ("ViT-L-14", True),
    "georsclip-vit-l-14-336": ("ViT-L-14-336", True),
    "georsclip-vit-h-14": ("ViT-H-14", False),
    "skyclip-vit-l-14": ("ViT-L-14", True),
    "skyclip-vit-b-32": ("ViT-B-32", False),
}


def activations(net: torch.nn.Module) -> set[type]:
    """The activation classes of the transformer MLPs (the text tower, and a ViT's image tower)."""
    return {type(m.mlp.gelu) for m in net.modules() if hasattr(m, "mlp") and hasattr(m.mlp, "gelu")}


def embed(net: torch.nn.Module) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    image = torch.rand(2, 3, net.visual.image_size[0], net.visual.image_size[1], generator=g)
    text = open_clip.tokenize(["two planes", "a harbour"], context_length=net.context_length)
    with torch.no_grad():
        return torch.cat([net.encode_image(image), net.encode_text(text)])


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_each_entry_builds_the_activation_its_publisher_trained_with(name, tmp_path):
    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"")  # parsing needs the file to exist; nothing is loaded
    spec = ModelSpec.parse(f"{name}:{weights}")
    arch, quick = PUBLISHED[name]
    with torch.device("meta"):
        net, _, _ = build_network(spec.build, device="meta")
    assert activations(net) == {QuickGELU if quick else torch.nn.GELU}
    assert spec.zoo == name and spec.arch == (f"{arch}-quickgelu" if quick else arch)
    assert type(net.visual).__name__ == ("ModifiedResNet" if arch == "RN50" else "VisionTransformer")


def test_the_table_covers_every_entry_and_no_entry_is_an_open_clip_name():
    assert set(zoo.ZOO) == set(PUBLISHED)
    names = {m.lower() for m in open_clip.list_models()}
    assert not names & set(zoo.ZOO)
    files = [f.lower() for e in zoo.ZOO.values() for f in e.files]
    assert len(files) == len(set(files))  # a usual file name points at one entry


def test_docs_hold_the_table_from_code():
    assert zoo.markdown() in (ROOT / "docs" / "zoo.md").read_text()


# -- the grammar ---------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    """Empty stand-ins under the publishers' file names (parsing only checks that they exist)."""
    names = [
        "RemoteCLIP-ViT-B-32.pt",
        "RemoteCLIP-ViT-L-14.pt",
        "RS5M_ViT-L-14.pt",
        "mine.pt",
        "SkyCLIP_ViT_B32_top50pct/epoch_20.pt",
    ]
    for n in names:
        (tmp_path / n).parent.mkdir(exist_ok=True)
        (tmp_path / n).write_bytes(b"")
    return tmp_path


def test_entries_labels_and_file_names(files, caplog):
    rc = files / "RemoteCLIP-ViT-B-32.pt"
    by_entry = ModelSpec.parse(f"remoteclip-vit-b-32:{rc}")
    assert (by_entry.kind, by_entry.build, by_entry.zoo) == (
        "file",
        "ViT-B-32-quickgelu",
        "remoteclip-vit-b-32",
    )
    assert by_entry.label == "remoteclip-vit-b-32 (RemoteCLIP-ViT-B-32.pt)"
    by_name = ModelSpec.parse(f"remoteclip-vit-b-32={rc}")  # the spelling: a label on a known file
    assert (by_name.label, by_name.build, by_name.zoo) == (
        "remoteclip-vit-b-32",
        "ViT-B-32-quickgelu",
        "remoteclip-vit-b-32",
    )
    labelled = ModelSpec.parse(f"RC (b32)=remoteclip-vit-b-32:{rc}")
    assert labelled.label == "RC (b32)" and labelled.zoo == "remoteclip-vit-b-32"
    sky = ModelSpec.parse(
        str(files / "SkyCLIP_ViT_B32_top50pct" / "epoch_20.pt")
    )  # known by its zip's folder
    assert (sky.zoo, sky.build) == ("skyclip-vit-b-32", "ViT-B-32")
    plain = ModelSpec.parse(f"ViT-B-32-quickgelu:{files / 'mine.pt'}")
    assert (plain.zoo, plain.build, plain.label) == (
        None,
        "ViT-B-32-quickgelu",
        "ViT-B-32-quickgelu (mine.pt)",
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_contradictions_with_the_zoo_are_warned(files, caplog):
    with caplog.at_level(logging.WARNING):
        ModelSpec.parse(f"ViT-B-32:{files / 'RemoteCLIP-ViT-L-14.pt'}")
        ModelSpec.parse(f"ViT-B-32:{files / 'RemoteCLIP-ViT-B-32.pt'}")
        ModelSpec.parse(f"remoteclip-vit-b-32:{files / 'RemoteCLIP-ViT-L-14.pt'}")
    arch, act, entry = [r.getMessage() for r in caplog.records]
    assert "RemoteCLIP-ViT-L-14.pt is the usual file of zoo entry remoteclip-vit-l-14" in arch
    assert "another architecture" in arch and "write remoteclip-vit-l-14:" in arch
    assert "builds ViT-B-32 (another activation)" in act and "QuickGELU" in act
    assert "builds ViT-B-32-quickgelu (another architecture)" in entry
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        spec = ModelSpec.parse(str(files / "RS5M_ViT-L-14.pt"))
    assert spec.zoo == "georsclip-vit-l-14"
    assert "does not document the activation" in caplog.records[0].getMessage()
    caplog.clear()
    (files / "ViT-B-32.pt").write_bytes(b"")  # OpenAI's file name, but not OpenAI's format
    with caplog.at_level(logging.WARNING):
        assert ModelSpec.parse(str(files / "ViT-B-32.pt")).zoo == "openai-vit-b-32"
    assert "named like zoo entry openai-vit-b-32's file, a TorchScript archive, but it is not" in caplog.text


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "remoteclip-vit-b-16:{dir}/mine.pt",
            r"^remoteclip-vit-b-16:.*unknown model 'remoteclip-vit-b-16': neither a "
            r"zoo entry .* did you mean .*remoteclip-vit-b-32",
        ),
        (
            "remoteclip-vit-b-32",
            r"^remoteclip-vit-b-32: zoo entry remoteclip-vit-b-32 needs its weights file",
        ),
        ("{dir}/mine.pt", r"mine\.pt: a weights file needs its network: write ENTRY:PATH"),
        (
            "remoteclip-vit-b-32={dir}/mine.pt",
            r"remoteclip-vit-b-32= is a label .* write remoteclip-vit-b-32:",
        ),
        ("remoteclip-vit-b-32:{dir}/missing.pt", r"missing\.pt: no such weights file"),
        ("local-dir:{dir}/nowhere", r"nowhere: no such directory"),
        ("{dir}", r"neither an rs-clip-checkpoint \(no manifest.json\) nor an open_clip folder"),
    ],
)
def test_bad_specs_are_one_error_naming_the_spec(text, match, files):
    with pytest.raises(FormatError, match=match):
        ModelSpec.parse(text.format(dir=files))


# -- loading through the zoo: RemoteCLIP's state dict, OpenAI's TorchScript, GELU vs QuickGELU ----------
# Real files are 0.4-1.7 GB; the same formats are made here from RS-Tiny-quickgelu, under two entries shaped
# like the real ones (a RemoteCLIP-style and an OpenAI-style one) added to the zoo for the test.


@pytest.fixture
def tiny_zoo(monkeypatch):
    real = zoo.ZOO["remoteclip-vit-b-32"], zoo.ZOO["openai-vit-b-32"]
    for entry, name, file in zip(
        real, ("remoteclip-rs-tiny", "openai-rs-tiny"), ("RemoteCLIP-RS-Tiny.pt", "RS-Tiny.pt")
    ):
        monkeypatch.setitem(
            zoo.ZOO, name, dataclasses.replace(entry, name=name, architecture=TINY_MODEL, files=(file,))
        )


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """An RS-Tiny-quickgelu saved as RemoteCLIP released its weights (a plain state dict) and as OpenAI
    released CLIP (a TorchScript archive in fp16 with three extra entries); weights rounded to fp16 so that
    both files hold exactly the same numbers."""
    root = tmp_path_factory.mktemp("released")
    torch.manual_seed(0)
    net, _, _ = build_network("RS-Tiny-quickgelu")
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    torch.save(net.state_dict(), root / "RemoteCLIP-RS-Tiny.pt")
    scripted = copy.deepcopy(net).half()
    mask = scripted.attn_mask
    del scripted._buffers["attn_mask"]  # TorchScript saves every buffer; OpenAI's mask is a plain attribute
    scripted.attn_mask = mask
    for key, value in (("input_resolution", 64), ("context_length", 32), ("vocab_size", 49408)):
        if hasattr(scripted, key):
            delattr(scripted, key)  # open_clip keeps them as ints; OpenAI's archives hold them as tensors
        scripted.register_buffer(key, torch.tensor(value))
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", FutureWarning
        )  # torch.jit.script is deprecated; OpenAI's files are scripts
        torch.jit.script(scripted).save(str(root / "RS-Tiny.pt"))
    return root, embed(net.eval())


def test_remoteclip_state_dict_and_openai_torchscript_load_through_the_zoo(released, tiny_zoo):
    root, expected = released
    assert is_torchscript(root / "RS-Tiny.pt") and not is_torchscript(root / "RemoteCLIP-RS-Tiny.pt")
    for text in (
        f"remoteclip-rs-tiny:{root / 'RemoteCLIP-RS-Tiny.pt'}",
        str(root / "RemoteCLIP-RS-Tiny.pt"),
        str(root / "RS-Tiny.pt"),
    ):
        spec = ModelSpec.parse(text)
        net, _, _ = load_spec(spec)
        assert spec.build == "RS-Tiny-quickgelu" and activations(net) == {QuickGELU}
        assert torch.equal(embed(net), expected), text


def test_gelu_and_quickgelu_give_different_embeddings_for_the_same_weights(released, tiny_zoo, caplog):
    root, expected = released
    with caplog.at_level(logging.WARNING):
        # same keys: it loads
        net, _, _ = load_spec(ModelSpec.parse(f"{TINY_MODEL}:{root / 'RemoteCLIP-RS-Tiny.pt'}"))
    assert activations(net) == {torch.nn.GELU} and "another activation" in caplog.text
    assert (embed(net) - expected).abs().max() > 1e-3


def test_weights_that_do_not_fit_the_entry_are_one_error(tmp_path):
    tiny, _, _ = create_model(TINY_MODEL)
    torch.save(tiny.state_dict(), tmp_path / "tiny.pt")
    spec = ModelSpec.parse(f"remoteclip-vit-b-32:{tmp_path / 'tiny.pt'}")
    with (
        torch.device("meta"),
        pytest.raises(
            FormatError,
            match=r"tiny\.pt: does not match architecture "
            r"remoteclip-vit-b-32 \(ViT-B-32-quickgelu\)",
        ),
    ):
        load_spec(spec, device="meta")


def test_a_zip_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "SkyCLIP_ViT_B32_top50pct.zip").write_bytes(b"PK")
    with pytest.raises(FormatError, match="unzip it and give the .pt inside"):
        load_state_dict(tmp_path / "SkyCLIP_ViT_B32_top50pct.zip")


# -- what reading a TorchScript archive runs -------------------------------------------------------------


def _archive(tmp_path: Path, module: torch.nn.Module) -> Path:
    path = tmp_path / "ViT-B-32.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(module).save(str(path))
    return path


class _Opener:
    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_a_data_pkl_naming_a_python_global_is_refused_and_not_run(tmp_path):
    path = _archive(tmp_path, torch.nn.Linear(2, 2))
    marker = tmp_path / "created-by-the-archive"
    tampered = tmp_path / "tampered" / "ViT-B-32.pt"
    tampered.parent.mkdir()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/data.pkl"):
                data = pickle.dumps(_Opener(marker), protocol=2)
            dst.writestr(item, data)
    assert pickle.loads(pickle.dumps(_Opener(tmp_path / "control"))) and (tmp_path / "control").exists()
    with pytest.raises(FormatError, match="not a loadable TorchScript archive"):
        load_state_dict(tampered)
    assert not marker.exists()


class _WithState(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(2))

    def forward(self, x):
        return x * self.weight

    @torch.jit.export
    def __getstate__(self) -> tuple[torch.Tensor, bool]:
        return (self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[torch.Tensor, bool]) -> None:
        self.weight = state[0]
        self.training = state[1]


def test_an_archive_whose_code_would_run_while_loading_is_refused(tmp_path):
    path = _archive(tmp_path, _WithState())
    with pytest.raises(
        FormatError, match=r"ViT-B-32\.pt: a TorchScript archive whose code defines __setstate__"
    ):
        load_state_dict(path)
