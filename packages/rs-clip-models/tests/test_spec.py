"""``--model`` specs: the forms every evaluating command accepts."""

from __future__ import annotations

import pytest
import torch

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import TINY_MODEL, create_model, load_spec
from rs_clip_models.spec import ModelSpec
from rs_formats import FormatError


@pytest.fixture
def tiny_checkpoint(tmp_path):
    model, _, _ = create_model(TINY_MODEL)
    return write_checkpoint(tmp_path / "ckpt", model.state_dict(), model_name=TINY_MODEL, step=7)


def test_parse_forms(tiny_checkpoint, tmp_path):
    ck = ModelSpec.parse(str(tiny_checkpoint))
    assert (ck.kind, ck.arch) == ("checkpoint", "RS-Tiny") and "step 7" in ck.label
    rnd = ModelSpec.parse("RS-Tiny")
    assert rnd.kind == "random" and rnd.label == "RS-Tiny (random init)"
    named = ModelSpec.parse(f"trained={tiny_checkpoint}")
    assert named.label == "trained" and named.kind == "checkpoint"
    weights = tmp_path / "w.pt"
    torch.save(
        {"state_dict": {"module." + k: v for k, v in torch.nn.Linear(2, 2).state_dict().items()}}, weights
    )
    f = ModelSpec.parse(f"ViT-B-32:{weights}")
    assert (f.kind, f.arch, f.path) == ("file", "ViT-B-32", weights)
    with pytest.raises(FormatError, match="no such weights file"):
        ModelSpec.parse(f"ViT-B-32:{tmp_path / 'missing.pt'}")
    with pytest.raises(FormatError, match="NAME:PATH"):
        ModelSpec.parse(str(weights))
    with pytest.raises(FormatError, match="no such checkpoint directory"):
        ModelSpec.parse(str(tmp_path / "nope" / "ckpt"))


def test_random_init_is_the_same_every_time_and_spares_the_callers_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    b, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    assert torch.rand(1).item() == before.item()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_checkpoint_in_a_store_loads_from_its_uri_once_verified(s3, tiny_checkpoint, tmp_path, monkeypatch):
    """``--model s3://...``: downloaded once into the cache (keyed by the manifest), the same weights as
    the folder it was uploaded from; a corrupt upload is refused naming the stored file."""
    import pyarrow.fs

    monkeypatch.setenv("RS_CLIP_MODELS_CACHE", str(tmp_path / "cache"))
    (tiny_checkpoint / "train_state").mkdir()  # a trainer's resume state: never downloaded by a reader
    (tiny_checkpoint / "train_state" / "big.bin").write_bytes(b"x" * 1000)
    uri = f"s3://{s3.bucket}/runs/r1/final"
    pyarrow.fs.copy_files(str(tiny_checkpoint), uri)

    spec = ModelSpec.parse(f"stored={uri}")
    assert (spec.label, spec.kind, spec.arch, spec.text) == (
        "stored",
        "checkpoint",
        "RS-Tiny",
        f"stored={uri}",
    )
    assert spec.path.name == "final" and spec.path.is_relative_to(tmp_path / "cache")
    assert sorted(p.name for p in spec.path.iterdir()) == sorted(
        p.name for p in tiny_checkpoint.iterdir() if p.name != "train_state"
    )
    assert spec.fingerprint() == ModelSpec.parse(str(tiny_checkpoint)).fingerprint()
    a, _, _ = load_spec(spec)
    b, _, _ = load_spec(ModelSpec.parse(str(tiny_checkpoint)))
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert "step 7" in ModelSpec.parse(uri).label
    assert ModelSpec.parse(f"{uri}?endpoint_override={s3.url}").path == spec.path  # a query holding '://'
    init, _, _ = create_model(TINY_MODEL, weights=uri)  # --init s3://...
    assert all(torch.equal(x, y) for x, y in zip(init.state_dict().values(), b.state_dict().values()))

    # The same manifest is a cache hit (nothing read but the manifest); corrupt weights are never cached.
    bad = f"s3://{s3.bucket}/runs/r2/final"
    pyarrow.fs.copy_files(str(tiny_checkpoint), bad)
    weights = next(p.name for p in tiny_checkpoint.glob("*.safetensors"))
    blob = bytearray((tiny_checkpoint / weights).read_bytes())
    blob[-1] ^= 1
    fs, path = pyarrow.fs.FileSystem.from_uri(f"{bad}/{weights}")
    with fs.open_output_stream(path) as f:
        f.write(bytes(blob))
    assert ModelSpec.parse(bad).path == spec.path  # same manifest: the verified copy, not the bad one
    monkeypatch.setenv("RS_CLIP_MODELS_CACHE", str(tmp_path / "fresh"))
    with pytest.raises(FormatError, match=f"{bad}/{weights}: sha256 mismatch"):
        ModelSpec.parse(bad)
    assert not [p for p in (tmp_path / "fresh").rglob("*") if p.is_file() and p.suffix != ".lock"]
    with pytest.raises(FormatError, match="no such checkpoint"):
        ModelSpec.parse(f"s3://{s3.bucket}/runs/missing")


def test_a_weights_file_in_a_store_loads_from_its_uri(s3, tiny_checkpoint, tmp_path, monkeypatch):
    """``--init s3://.../w.pt`` and ``NAME:s3://...``: what a node that shares only a store loads. The
    download is cached by URI, size and time (a rewritten object is a new entry), checked against the
    sha256 the zoo publishes for its file name, and a folder is refused where a file is meant."""
    import pyarrow.fs

    monkeypatch.setenv("RS_CLIP_MODELS_CACHE", str(tmp_path / "cache"))
    model, _, _ = create_model(TINY_MODEL)
    local = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), local)
    uri = f"s3://{s3.bucket}/weights/tiny.pt"
    pyarrow.fs.copy_files(str(local), uri)

    spec = ModelSpec.parse(f"{TINY_MODEL}:{uri}")
    assert (spec.kind, spec.arch, spec.text) == ("file", TINY_MODEL, f"{TINY_MODEL}:{uri}")
    assert spec.path.name == "tiny.pt" and spec.path.is_relative_to(tmp_path / "cache")
    assert spec.path.read_bytes() == local.read_bytes()
    loaded, _, _ = load_spec(spec)
    init, _, _ = create_model(TINY_MODEL, weights=uri)  # --init URI: the network is --model's
    for got in (loaded, init):
        assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(), model.state_dict().values()))
    assert ModelSpec.parse(f"{TINY_MODEL}:{uri}").path == spec.path  # cached

    changed = {k: v + 1 for k, v in model.state_dict().items()}
    torch.save(changed, local)
    pyarrow.fs.copy_files(str(local), uri)
    again = ModelSpec.parse(f"{TINY_MODEL}:{uri}")
    assert again.path != spec.path and again.path.read_bytes() == local.read_bytes()

    # A URI's own options may hold '://' (an endpoint): still a URI, not NAME:URI.
    assert ModelSpec.parse(f"{TINY_MODEL}:{uri}?endpoint_override={s3.url}").path == again.path

    # A file under a zoo entry's name, taken for its publisher's (FILE, ENTRY:URI), is checked against the
    # sha256 the publisher gave, and never cached when it differs; NAME:URI says whose weights they are.
    fake = f"s3://{s3.bucket}/weights/RN50.pt"
    pyarrow.fs.copy_files(str(local), fake)  # the tiny network's weights, under OpenAI's file name
    monkeypatch.setenv("RS_CLIP_MODELS_CACHE", str(tmp_path / "fresh"))
    for taken_as_openai in (fake, f"openai-rn50:{fake}"):
        with pytest.raises(
            FormatError, match=f"{fake}: sha256 .* is not the one OpenAI CLIP published .* NAME:URI"
        ):
            ModelSpec.parse(taken_as_openai)
    assert not [p for p in (tmp_path / "fresh").rglob("*") if p.is_file() and p.suffix != ".lock"]
    mine, _, _ = load_spec(ModelSpec.parse(f"{TINY_MODEL}:{fake}"))
    assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(), changed.values()))

    pyarrow.fs.copy_files(str(tiny_checkpoint), f"s3://{s3.bucket}/weights/ckpt")
    with pytest.raises(FormatError, match="names a weights file, and this is a folder"):
        ModelSpec.parse(f"{TINY_MODEL}:s3://{s3.bucket}/weights/ckpt")
    with pytest.raises(FormatError, match="missing.pt: no such checkpoint or weights file"):
        ModelSpec.parse(f"{TINY_MODEL}:s3://{s3.bucket}/weights/missing.pt")


def test_processes_wanting_one_stored_file_share_one_download(s3, tmp_path, monkeypatch):
    """A node's ranks load ``--init s3://...`` at once: one downloads, the others wait and find its copy
    (threads here; the file lock is per open file, so it serialises threads as it does processes)."""
    import threading
    import time

    import pyarrow.fs

    from rs_clip_models import stored_checkpoint

    local = tmp_path / "w.pt"
    local.write_bytes(b"w" * 100_000)
    uri = f"s3://{s3.bucket}/weights/shared/w.pt"
    pyarrow.fs.copy_files(str(local), uri)
    downloads, real = [], stored_checkpoint._download

    def slow_download(src, dst):
        downloads.append(str(src))
        time.sleep(0.3)  # long enough for every thread to ask while the first is still downloading
        real(src, dst)

    monkeypatch.setattr(stored_checkpoint, "_download", slow_download)
    got: list = []
    threads = [
        threading.Thread(target=lambda: got.append(stored_checkpoint.fetch(uri, tmp_path / "cache")))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert downloads == [uri]
    assert len(got) == 4 and len(set(got)) == 1 and got[0].read_bytes() == local.read_bytes()
    assert sorted(p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")) == [
        got[0].parent.name
    ]
