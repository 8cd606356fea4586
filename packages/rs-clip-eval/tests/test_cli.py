"""End to end: ``rs-clip-eval run`` on a tiny synthetic suite, single-task verbs, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from rs_clip_eval.cli import main
from rs_formats import write_checkpoint

FAST = ["--epochs", "30", "--no-progress", "--tsne-points", "120"]


@pytest.fixture(scope="module")
def suite_file(data_dir):
    path = data_dir / "suite.yaml"
    path.write_text(
        "name: tiny\n"
        "probe: {search_trials: 2}\n"
        "datasets:\n"
        "  - path: caps\n"
        "    name: RSITMD\n"  # a paper name: the published figures appear beside ours
        "  - path: scenes\n"
        "    templates: ['a satellite photo of {}.', 'an aerial view of {}.']\n"
        "    shots: [1, 4]\n"
        "    seeds: [0, 1]\n"
        "    knn_k: 5\n"
    )
    return path


def test_run_writes_json_markdown_and_plots(tiny_checkpoint, suite_file, tmp_path, capsys):
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    args = ["run", "--model", f"trained={tiny_checkpoint}", "--model", "RS-Tiny", "--suite", str(suite_file),
            "--out", str(out), "--cache-dir", str(cache), *FAST]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert [m["label"] for m in res["models"]] == ["trained", "RS-Tiny (random init)"]
    assert res["models"][1]["kind"] == "random"
    assert res["suite"]["probe"] == {"search_trials": 2} and res["config"]["probe"] == {"epochs": 30}
    for label in ("trained", "RS-Tiny (random init)"):
        r = res["results"][label]
        assert set(r) == {"RSITMD", "synthetic-scenes"}
        assert set(r["RSITMD"]) == {"retrieval"}
        assert r["RSITMD"]["retrieval"]["n_captions"] == 24 * 5
        assert set(r["synthetic-scenes"]) == {"zeroshot", "linear_probe", "fewshot", "knn"}
        assert len(r["synthetic-scenes"]["zeroshot"]["templates"]) == 2
        assert list(r["synthetic-scenes"]["fewshot"]["shots"]) == ["1", "4"]
        assert r["synthetic-scenes"]["knn"]["k"] == 5
        assert len(r["synthetic-scenes"]["linear_probe"]["search"]) == 2
        assert r["synthetic-scenes"]["linear_probe"]["config"]["epochs"] == 30
        assert 0 <= r["synthetic-scenes"]["knn"]["top1"] <= 100
    # Two models x (caps test images + captions, scenes train/test images + prompts): 10 embeddings.
    assert res["cache"]["misses"] == 10
    md = (out / "report.md").read_text()
    assert "Image-text retrieval (as paper Table II)" in md and "RemoteCLIP ViT-B-32 *(paper)*" in md
    assert "49.38" in md and "Δ trained − RS-Tiny (random init)" in md
    assert "Zero-shot classification" in md and "Linear probe" in md and "k-NN" in md and "1-shot" in md
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert "fewshot-synthetic-scenes.png" in pngs
    assert sum(p.startswith("confusion-zeroshot") for p in pngs) == 2
    assert sum(p.startswith("tsne-") for p in pngs) == 2
    assert all((out / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    # stdout holds what the command produced (the report's paths); what it says about its work is logged
    assert capsys.readouterr().out.split() == [str(out / "report.md"), str(out / "results.json")]

    # Second run: every embedding comes from the cache.
    assert main(args[:-len(FAST)] + FAST + ["--no-plots"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] >= 10
    first, second = (dict(r["results"]["trained"]["RSITMD"]["retrieval"]) for r in (res, again))
    first.pop("seconds"), second.pop("seconds")
    assert first == second


def test_single_task_verbs(tiny_checkpoint, data_dir, tmp_path):
    common = ["--model", str(tiny_checkpoint), "--cache-dir", str(tmp_path / "c"), "--loader-workers", "0", *FAST,
              "--no-plots"]
    assert main(["retrieval", "--data", str(data_dir / "caps"), "--out", str(tmp_path / "r"), *common]) == 0
    r = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert set(next(iter(r.values()))["synthetic-captions"]) == {"retrieval"}
    assert main(["zeroshot", "--data", str(data_dir / "scenes"), "--templates", "resisc45", "--out",
                 str(tmp_path / "z"), *common]) == 0
    z = json.loads((tmp_path / "z" / "results.json").read_text())["results"]
    assert len(next(iter(z.values()))["synthetic-scenes"]["zeroshot"]["templates"]) == 18
    assert main(["knn", "--data", str(data_dir / "scenes"), "--k", "3", "--out", str(tmp_path / "k"), *common]) == 0
    assert main(["fewshot", "--data", str(data_dir / "scenes"), "--shots", "2", "--seeds", "0",
                 "--out", str(tmp_path / "f"), *common]) == 0
    f = json.loads((tmp_path / "f" / "results.json").read_text())["results"]
    assert list(next(iter(f.values()))["synthetic-scenes"]["fewshot"]["shots"]) == ["2"]
    assert main(["linear-probe", "--data", str(data_dir / "scenes"), "--out", str(tmp_path / "l"), *common]) == 0
    # bf16 autocast: runs on a CPU too, and is cached apart from the fp32 embeddings.
    assert main(["knn", "--data", str(data_dir / "scenes"), "--precision", "amp_bf16", "--out", str(tmp_path / "b"),
                 *common]) == 0
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert b["cache"]["misses"] == 2 and b["config"]["precision"] == "amp_bf16"


def _fails(args, capsys, *needles):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rs-clip-eval: error: ") and "Traceback" not in err and err.count("\n") == 1
    for n in needles:
        assert n in err, err
    return err


def test_bad_input_gives_one_clean_line(tiny_checkpoint, data_dir, tmp_path, capsys, monkeypatch):
    out = "--out=" + str(tmp_path / "o")
    common = ["--cache-dir", str(tmp_path / "c"), "--loader-workers", "0", "--no-progress", "--no-plots", "-q"]
    ds = str(data_dir / "scenes")
    _fails(["knn", "--model", "RS-Tiny", "--data", str(tmp_path / "missing"), out, *common], capsys,
           "missing", "no such dataset directory")
    _fails(["zeroshot", "--model", "RS-Tiny", "--data", str(data_dir / "caps"), out, *common], capsys,
           "'captions' dataset", "zeroshot")
    _fails(["retrieval", "--model", "RS-Tiny", "--data", ds, out, *common], capsys, "'classification' dataset")
    _fails(["knn", "--model", "RS-Tiny", "--data", ds, "--split", "val", out, *common], capsys, "no split 'val'")
    _fails(["knn", "--model", f"RS-Tiny:{tmp_path / 'none.pt'}", "--data", ds, out, *common], capsys,
           "none.pt", "no such weights file")
    _fails(["knn", "--model", "No-Such-Arch", "--data", ds, out, *common], capsys, "unknown model 'No-Such-Arch'")
    _fails(["knn", "--model", f"remoteclip-vit-b-16:{tmp_path}", "--data", ds, out, *common], capsys,
           "remoteclip-vit-b-16", "neither a zoo entry", "did you mean")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # nothing there; nothing downloaded
    _fails(["knn", "--model", "hf-hub:org/absent", "--data", ds, out, *common], capsys,
           "hf-hub:org/absent: not in the local Hugging Face cache")

    # Weights of another architecture: the first mismatching keys are named.
    wrong = tmp_path / "wrong.pt"
    torch.save({"state_dict": {"visual.conv1.weight": torch.zeros(3), "text_projection": torch.zeros(2, 2)}}, wrong)
    _fails(["knn", "--model", f"RS-Tiny:{wrong}", "--data", ds, out, *common], capsys,
           "does not match architecture RS-Tiny", "missing (first:")
    bad_ckpt = tmp_path / "bad-ckpt"
    write_checkpoint(bad_ckpt, {"w": torch.zeros(2)}, model_name="RS-Tiny", step=1)
    _fails(["knn", "--model", str(bad_ckpt), "--data", ds, out, *common], capsys, "does not match")

    suite = tmp_path / "s.yaml"
    suite.write_text("datasets:\n  - path: x\n    tasks: [segmentation]\n")
    _fails(["run", "--model", "RS-Tiny", "--suite", str(suite), out, *common], capsys, "s.yaml", "unknown task")
    suite.write_text("datasets: [\n  - path: x\n")
    _fails(["run", "--model", "RS-Tiny", "--suite", str(suite), out, *common], capsys, "s.yaml", "not valid")
    _fails(["run", "--model", "RS-Tiny", "--suite", str(tmp_path / "no.yaml"), out, *common], capsys,
           "no such suite file")
    _fails(["run", "--model", "RS-Tiny", "--suite", "paper", "--data-root", str(tmp_path), out, *common], capsys,
           "none of the paper's datasets")
    _fails(["run", "--model", "RS-Tiny", "--model", "RS-Tiny", "--suite", str(data_dir / "suite.yaml"), out,
            *common], capsys, "same label")


def test_paper_suite_finds_datasets_by_name(data_dir, tmp_path):
    from rs_clip_eval.suites import load_suite

    root = tmp_path / "root"
    root.mkdir()
    (root / "rsitmd").symlink_to(data_dir / "caps")
    (root / "WHU_RS19").symlink_to(data_dir / "scenes")
    suite = load_suite("paper", data_root=root)
    assert [d.name for d in suite.datasets] == ["RSITMD", "WHU-RS19"]
    assert suite.datasets[1].tasks == ("zeroshot", "linear_probe", "fewshot", "knn")
    assert "RSICD" in suite.missing and "EuroSAT" in suite.missing


def test_imports_without_ray_or_deepspeed():
    code = ("import sys, rs_clip_eval.cli, rs_clip_eval.runner, rs_clip_eval.report, rs_formats.embed; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('ray', 'deepspeed')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_console_convention(tiny_checkpoint, data_dir, tmp_path, capsys):
    from rs_clip_eval import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"rs-clip-eval {__version__}"
    common = ["--model", "RS-Tiny", "--data", str(data_dir / "caps"), "--cache-dir", str(tmp_path / "c"),
              "--no-plots", "--tsne-points", "0", "--no-progress"]
    # Old spellings still work for one release, each with a warning: positional OUT_DIR, --workers.
    assert main(["retrieval", str(tmp_path / "old"), "--workers", "0", *common]) == 0
    err = capsys.readouterr().err
    assert "rs-clip-eval retrieval: warning: --workers is deprecated and will be removed; use --loader-workers" in err
    assert "rs-clip-eval: warning: the positional OUT_DIR is deprecated" in err
    assert (tmp_path / "old" / "results.json").is_file()
    # Status messages go through logging (-q silences them); results go to stdout.
    assert main(["retrieval", "--out", str(tmp_path / "new"), "--loader-workers", "0", *common]) == 0
    captured = capsys.readouterr()
    assert "rs-clip-eval: RS-Tiny (random init): retrieval on synthetic-captions" in captured.err
    assert captured.out.split()[-1] == str(tmp_path / "new" / "results.json")
    assert main(["retrieval", "--out", str(tmp_path / "q"), "-q", "--loader-workers", "0", *common]) == 0
    assert capsys.readouterr().err == ""
    # Usage errors: exit status 2, one line.
    _fails(["retrieval", str(tmp_path / "a"), "--out", str(tmp_path / "b"), *common], capsys, "given twice")
    _fails(["retrieval", *common], capsys, "required: --out")
    with pytest.raises(SystemExit) as e:
        main(["retrieval", "--out", str(tmp_path / "p"), "--precision", "fp16", *common])
    assert e.value.code == 2 and "invalid choice: 'fp16'" in capsys.readouterr().err
