"""End to end through the CLI with the random-init RS-Tiny model and rs-clip checkpoints."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import grid_boxes, write_scene
from PIL import Image

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_count import EmbeddingCache, EvalConfig
from rs_count.cli import main
from rs_count.evaluate import evaluate_model
from rs_formats import DatasetWriter, open_dataset
from rs_formats.location import resolve

FAST = EvalConfig(loader_workers=0, progress=False)


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    classes = ["plane", "storage-tank", "ship"]
    for n in range(1, 11):
        for j in range(1 + n % 2):
            write_scene(root / "dota", f"P{n:02d}{j}", grid_boxes(classes[(n + j) % 3], n))
    rc = main(
        [
            "build",
            "--labels",
            str(root / "dota" / "labelTxt"),
            "--images",
            str(root / "dota" / "images"),
            "--out",
            str(root / "ds"),
            "--short-side",
            "96",
            "--no-progress",
        ]
    )
    assert rc == 0
    return root / "ds"


@pytest.fixture(scope="module")
def tiny_state():
    import torch

    from rs_clip_models.models import create_model

    torch.manual_seed(1)
    model, _, _ = create_model("RS-Tiny")
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_build_eval_report(ds, tiny_state, tmp_path, capsys):
    ckpt = write_checkpoint(tmp_path / "ckpt", tiny_state, model_name="RS-Tiny", step=5)
    out = tmp_path / "report"
    rc = main(
        [
            "eval",
            "--out",
            str(out),
            "--model",
            "RS-Tiny",
            "--model",
            str(ckpt),
            "--data",
            str(ds),
            "--loader-workers",
            "0",
            "--batch-size",
            "4",
            "--no-progress",
            "--no-cache",
        ]
    )
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert [(r["model"], r["variant"]) for r in doc["results"]] == [
        ("RS-Tiny (random init)", "words"),
        ("RS-Tiny (random init)", "digits"),
        ("ckpt (RS-Tiny, step 5)", "words"),
        ("ckpt (RS-Tiny, step 5)", "digits"),
    ]
    r = doc["results"][0]
    assert r["n"] == 15 and len(r["images"]) == 15 and r["topk"]["top10"] == 100.0
    assert sum(map(sum, r["confusion"])) == 15 and set(r["per_class"]) == {"plane", "storage tank", "ship"}
    md = (out / "report.md").read_text()
    assert "| ckpt (RS-Tiny, step 5) | digits |" in md and "## Top-1 accuracy per count" in md
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == [
        "confusion-ckpt-rs-tiny-step-5-digits.png",
        "confusion-ckpt-rs-tiny-step-5-words.png",
        "confusion-rs-tiny-random-init-digits.png",
        "confusion-rs-tiny-random-init-words.png",
        "topk.png",
    ]
    assert Image.open(out / "topk.png").size[0] > 300
    assert "top-1" in capsys.readouterr().out
    # The long-format table (rs-clip-eval's writer): 2 models x 2 variants x (top-1..10 in %, MAE in counts),
    # naming the weights and the data; `rs-clip-eval compare` reads it like any rs-clip-eval run.
    from rs_clip_eval import read_results_table
    from rs_clip_eval.cli import main as eval_main
    from rs_clip_models.spec import ModelSpec

    rows = read_results_table(out)
    assert len(rows) == 2 * 2 * 11 and {r.task for r in rows} == {"remotecount-words", "remotecount-digits"}
    assert {r.dataset_sha256 for r in rows} == {open_dataset(ds).manifest_sha256()} and {
        r.split for r in rows
    } == {"test"}
    ckpt_rows = [r for r in rows if r.model == "ckpt (RS-Tiny, step 5)"]
    assert {r.model_fingerprint for r in ckpt_rows} == {ModelSpec.parse(str(ckpt)).fingerprint()}
    assert {r.model_spec for r in ckpt_rows} == {str(ckpt)}
    for r in rows:
        result = next(
            x for x in doc["results"] if (x["model"], f"remotecount-{x['variant']}") == (r.model, r.task)
        )
        assert r.value == (result["mae"] if r.metric == "mae" else result["topk"][r.metric])
        assert r.unit == ("counts" if r.metric == "mae" else "%")
    assert eval_main(["compare", str(out)]) == 0
    assert f"| {open_dataset(ds).name} | remotecount-words | mae (counts) |" in capsys.readouterr().out


def test_scores_match_a_direct_computation(ds, tiny_state, tmp_path):
    """Per-class caption batching must give the same answers as scoring each image on its own."""
    import torch
    from safetensors.torch import save_file

    from rs_clip_models.models import create_model
    from rs_count.captions import DEFAULT

    weights = tmp_path / "w.safetensors"
    save_file(tiny_state, str(weights))
    (res,) = evaluate_model(f"RS-Tiny:{weights}", ds, variants=("digits",), config=FAST)
    assert res.model == "RS-Tiny (w.safetensors)"
    model, preprocess, tokenizer = create_model("RS-Tiny", weights)
    expected = []
    with torch.no_grad():
        for row in open_dataset(ds).iter_rows("test"):
            img = model.encode_image(
                preprocess(Image.open(io.BytesIO(row["image"])).convert("RGB"))[None], normalize=True
            )
            txt = model.encode_text(
                tokenizer(DEFAULT.candidates(row["count_label"], "digits")), normalize=True
            )
            expected.append(int(np.argmax((img @ txt.T).numpy()[0])) + 1)
    assert res.metrics.predicted == expected
    # the same model handed in already loaded (no config: its own device) scores the same
    from rs_count import evaluate

    loaded = evaluate(model, preprocess, tokenizer, ds, variant="digits", model_name="loaded")
    assert loaded.model == "loaded" and loaded.metrics == res.metrics


def test_random_init_is_reproducible(ds):
    a = evaluate_model("RS-Tiny", ds, config=FAST)[0]
    b = evaluate_model("RS-Tiny", ds, config=FAST)[0]
    assert a.metrics == b.metrics


def test_errors_are_one_line_with_exit_2(ds, tiny_state, tmp_path, capsys):
    bad = dict(tiny_state)
    bad["text_projection"] = bad["text_projection"][:, :32]
    del bad["logit_scale"]
    ckpt = write_checkpoint(tmp_path / "wrong", bad, model_name="RS-Tiny", step=1)
    assert (
        main(
            [
                "eval",
                "--out",
                str(tmp_path / "o"),
                "--model",
                str(ckpt),
                "--data",
                str(ds),
                "--no-progress",
                "--no-cache",
                "-q",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "does not match architecture RS-Tiny" in err and "logit_scale" in err and "text_projection" in err

    with DatasetWriter(tmp_path / "caps", name="caps", kind="captions") as w:
        w.write({"image_id": "a", "source": "s", "image": b"x", "width": 1, "height": 1})
    assert (
        main(
            [
                "eval",
                "--out",
                str(tmp_path / "o"),
                "--model",
                "RS-Tiny",
                "--data",
                str(tmp_path / "caps"),
                "-q",
            ]
        )
        == 2
    )
    assert "rs-count needs kind 'counting'" in capsys.readouterr().err

    assert (
        main(
            [
                "eval",
                "--out",
                str(tmp_path / "o"),
                "--model",
                "No-Such-Model",
                "--data",
                str(ds),
                "--no-cache",
                "-q",
            ]
        )
        == 2
    )
    assert "unknown model 'No-Such-Model'" in capsys.readouterr().err

    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2) + [("zeppelin", 1, 1, 30, 30, 0)])
    args = [
        "build",
        "--labels",
        str(root / "labelTxt"),
        "--images",
        str(root / "images"),
        "--out",
        str(tmp_path / "x"),
        "--no-progress",
        "-q",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{root / 'labelTxt' / 'A.txt'}:5: unknown class 'zeppelin'" in err
    assert not (tmp_path / "x").exists()

    ann = tmp_path / "a.csv"
    ann.write_text("image,class,count\nA.png,plane,12\n")
    assert (
        main(["import", str(ann), "--images", str(root / "images"), "--out", str(tmp_path / "y"), "-q"]) == 2
    )
    assert "a.csv:2: count 12 is outside RemoteCount's 1..10" in capsys.readouterr().err


def test_import_cli(tmp_path, capsys):
    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2))
    write_scene(root, "B", grid_boxes("ship", 3))
    ann = tmp_path / "a.csv"
    ann.write_text(
        "image,caption\nA.png,There are two planes in the image.\nB.png,There are 3 ships in the image.\n"
        "C.png,There is one ship in the image.\n"
    )
    rc = main(
        [
            "import",
            str(ann),
            "--images",
            str(root / "images"),
            "--out",
            str(tmp_path / "ds"),
            "--skip-bad",
            "--no-progress",
            "--workers",  # rs-annotate's conversion flags (ConvertOptions' fields)
            "1",
            "--engine",
            "local",
        ]
    )
    assert rc == 0
    assert "skipped bad inputs: missing-image 1" in capsys.readouterr().out
    assert [r["count"] for r in open_dataset(tmp_path / "ds").iter_rows("test")] == [2, 3]


def test_eval_never_imports_ray_or_deepspeed(ds, tmp_path):
    code = (
        "import sys\n"
        "from rs_count.cli import main\n"
        f"rc = main(['eval', '--out', {str(tmp_path / 'o')!r}, '--model', 'RS-Tiny', '--data', {str(ds)!r},"
        " '--variant', 'words', '--loader-workers', '0', '--no-progress', '--no-cache'])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'deepspeed'))\n"
        "assert not bad, bad\n"
        "assert 'torch' in sys.modules and 'open_clip' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "o" / "results.json").is_file()


def test_embedding_cache_serves_a_second_evaluation(ds, tmp_path):
    """rs-count embeds through rs-clip-eval's cache: a second run loads no model and scores the same."""
    cache = EmbeddingCache(tmp_path / "cache")
    first = evaluate_model("RS-Tiny", ds, variants=("words", "digits"), config=FAST, cache=cache)
    # images once, then one caption set per variant
    assert (cache.hits, cache.misses) == (0, 3)
    again = EmbeddingCache(tmp_path / "cache")
    second = evaluate_model("RS-Tiny", ds, variants=("words", "digits"), config=FAST, cache=again)
    assert (again.hits, again.misses) == (3, 0)
    assert [r.metrics for r in first] == [r.metrics for r in second]
    # another precision is another key: bf16 autocast runs on a CPU too, and is embedded afresh
    bf16 = evaluate_model(
        "RS-Tiny", ds, config=EvalConfig(loader_workers=0, progress=False, precision="amp_bf16"), cache=again
    )
    assert again.misses == 2 and bf16[0].metrics.n == first[0].metrics.n


def test_eval_cli_cache_precision_and_console_convention(ds, tmp_path, capsys):
    from rs_count import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"rs-count {__version__}"
    common = [
        "--model",
        "RS-Tiny",
        "--data",
        str(ds),
        "--variant",
        "words",
        "--no-progress",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    # The old spellings work for one release, with warnings: positional OUT_DIR, --workers.
    assert main(["eval", str(tmp_path / "old"), "--workers", "0", *common]) == 0
    out, err = capsys.readouterr()
    assert "rs-count eval: warning: --workers is deprecated and will be removed; use --loader-workers" in err
    assert "rs-count: warning: the positional OUT_DIR is deprecated" in err
    assert "| RS-Tiny (random init) | words |" in out  # the result goes to stdout
    assert "rs-count: RS-Tiny (random init): RemoteCount on" in err  # status goes to the log
    assert f"embedding cache {tmp_path / 'cache'}: 0 hits, 2 misses" in err
    assert main(["eval", "--out", str(tmp_path / "new"), "--loader-workers", "0", "-q", *common]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "| RS-Tiny (random init) | words |" in out
    old, new = (json.loads((tmp_path / d / "results.json").read_text())["results"] for d in ("old", "new"))
    assert old == new
    # Usage errors: exit status 2, one line.
    assert main(["eval", str(tmp_path / "a"), "--out", str(tmp_path / "b"), *common]) == 2
    assert capsys.readouterr().err.strip().startswith("rs-count: error: the output directory is given twice")
    assert main(["eval", *common]) == 2
    assert "required: --out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["eval", "--out", str(tmp_path / "p"), "--precision", "fp16", *common])
    assert e.value.code == 2 and "invalid choice: 'fp16'" in capsys.readouterr().err
    # build keeps --image-size as a deprecated spelling of --short-side
    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2))
    assert (
        main(
            [
                "build",
                "--labels",
                str(root / "labelTxt"),
                "--images",
                str(root / "images"),
                "--out",
                str(tmp_path / "x"),
                "--image-size",
                "96",
                "--no-progress",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert "--image-size is deprecated and will be removed; use --short-side" in err and "1 images" in out
    assert next(open_dataset(tmp_path / "x").iter_rows("test"))["width"] == 96


def test_eval_takes_a_dataset_uri(s3, ds, tmp_path):
    import pyarrow.fs

    uri = f"s3://{s3.bucket}/count"
    pyarrow.fs.copy_files(str(ds), uri)
    args = [
        "eval",
        "--model",
        "RS-Tiny",
        "--variant",
        "digits",
        "--loader-workers",
        "0",
        "--no-progress",
        "-q",
    ]
    for name, data in (("disk", str(ds)), ("bucket", uri)):
        assert main([*args, "--no-cache", "--data", data, "--out", str(tmp_path / name)]) == 0
    disk, bucket = (
        json.loads((tmp_path / n / "results.json").read_text())["results"] for n in ("disk", "bucket")
    )
    assert [r["topk"] for r in bucket] == [r["topk"] for r in disk] and bucket[0]["n"] == 15


def test_build_and_import_write_a_dataset_uri(s3, ds, tmp_path, capsys):
    """The counting dataset goes to a store as rs-annotate's conversion puts it there: the same rows as the
    local build, its report beside it; an existing prefix is refused before the selection pass."""
    root = ds.parent
    uri = f"s3://{s3.bucket}/count-built"
    build = ["build", "--labels", str(root / "dota" / "labelTxt"), "--images", str(root / "dota" / "images")]
    assert main([*build, "--out", uri, "--short-side", "96", "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith(f"{uri}: ")
    stored, local = open_dataset(uri), open_dataset(ds)
    assert stored.read_table("test").equals(local.read_table("test"))
    assert resolve(f"{uri}.report.json").kind() == "file"
    assert main([*build, "--out", uri, "--no-progress"]) == 2
    assert f"{uri}: already exists" in capsys.readouterr().err

    ann = tmp_path / "a.csv"
    ann.write_text("image,class,count\nP010.png,plane,1\nP020.png,storage-tank,2\n")
    imported = f"s3://{s3.bucket}/count-imported"
    args = ["import", str(ann), "--images", str(root / "dota" / "images"), "--out", imported]
    assert main([*args, "--no-progress"]) == 0
    assert [r["count"] for r in open_dataset(imported).iter_rows("test")] == [1, 2]
