"""End to end: ``rs-clip-eval run`` on a tiny synthetic suite, single-task verbs, and bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
import torch

from rs_clip_eval.cli import main
from rs_clip_models.checkpoint_writer import write_checkpoint

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
        "    name: RS2800\n"  # the paper's name: its few-shot figures (Fig. 8) appear beside ours
        "    templates: ['a satellite photo of {}.', 'an aerial view of {}.']\n"
        "    shots: [1, 4]\n"
        "    seeds: [0, 1]\n"
        "    knn_k: 5\n"
    )
    return path


def test_run_writes_json_markdown_and_plots(tiny_checkpoint, suite_file, tmp_path, capsys):
    out = tmp_path / "out"
    cache = tmp_path / "cache"
    args = [
        "run",
        "--model",
        f"trained={tiny_checkpoint}",
        "--model",
        "RS-Tiny",
        "--suite",
        str(suite_file),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
        *FAST,
    ]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert [m["label"] for m in res["models"]] == ["trained", "RS-Tiny (random init)"]
    assert res["models"][1]["kind"] == "random"
    assert res["suite"]["probe"] == {"search_trials": 2} and res["config"]["probe"] == {"epochs": 30}
    for label in ("trained", "RS-Tiny (random init)"):
        r = res["results"][label]
        assert set(r) == {"RSITMD", "RS2800"}
        assert set(r["RSITMD"]) == {"retrieval"}
        assert r["RSITMD"]["retrieval"]["n_captions"] == 24 * 5
        assert set(r["RS2800"]) == {"zeroshot", "linear_probe", "fewshot", "knn"}
        assert len(r["RS2800"]["zeroshot"]["templates"]) == 2
        assert list(r["RS2800"]["fewshot"]["shots"]) == ["1", "4"]
        assert r["RS2800"]["knn"]["k"] == 5
        assert len(r["RS2800"]["linear_probe"]["search"]) == 2
        assert r["RS2800"]["linear_probe"]["config"]["epochs"] == 30
        assert 0 <= r["RS2800"]["knn"]["top1"] <= 100
    # Two models x (caps test images + captions, scenes train/test images + prompts): 10 embeddings.
    assert res["cache"]["misses"] == 10
    md = (out / "report.md").read_text()
    assert "Image-text retrieval (as paper Table II)" in md and "Δ trained − RS-Tiny (random init)" in md
    assert "Zero-shot classification" in md and "Linear probe" in md and "k-NN" in md and "1-shot" in md
    # Published figures, each with its source; another paper's are labelled as theirs, never as the paper's.
    lines = md.splitlines()
    assert (
        "| RemoteCLIP ViT-B-32 *(RemoteCLIP paper, Table II)* | 27.88 | 50.66 | 65.71 | 22.17 | 56.46 | 73.41 "
        "| 49.38 |"
    ) in lines
    assert (
        "| CLIP-CL RN50 *(RemoteCLIP paper, Table II)* | 19.25 | 39.82 | 51.33 | 15.09 | 41.46 | 56.64 | 37.27 |"
        in lines
    )
    georsclip = [line for line in lines if line.startswith("| GeoRSCLIP")]
    assert len(georsclip) == 2 and all("*(GeoRSCLIP README)*" in line for line in georsclip)
    assert not [line for line in lines if "GeoRSCLIP" in line and "RemoteCLIP paper" in line]
    assert "| CLIP-Baseline (backbone not stated) *(GeoRSCLIP README)* | 9.51 |" in md
    assert "| RemoteCLIP RN50 *(RemoteCLIP paper, Fig. 8, given in issue #3)* | 41.93 | 56.21 |" in lines
    # Tables III and IV beside ours; a table over one set has no published average to show.
    assert "| CLIP RN50 *(RemoteCLIP paper, Table III)* | 62.14 | – |" in lines
    assert "| Δ RemoteCLIP − CLIP ViT-L-14 *(RemoteCLIP paper, Table III)* | +0.17 | – |" in lines
    assert "| RemoteCLIP ViT-B-32 *(RemoteCLIP paper, Table IV)* | 86.96 | – |" in lines  # linear probe
    assert "| RemoteCLIP ViT-B-32 *(RemoteCLIP paper, Table IV)* | 87.86 | – |" in lines  # k-NN
    assert "No published figure" not in md
    assert "- *GeoRSCLIP README*: Zhang et al., RS5M and GeoRSCLIP" in md
    published = {(f["source"], f["task"], f["dataset"]) for f in res["published"]}
    assert published == {
        ("table-2", "retrieval", "RSITMD"),
        ("georsclip", "retrieval", "RSITMD"),
        ("issue-3", "fewshot", "RS2800"),
        ("table-3", "zeroshot", "RS2800"),
        ("table-4", "linear_probe", "RS2800"),
        ("table-4", "knn", "RS2800"),
    }
    pngs = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert "fewshot-rs2800.png" in pngs
    assert sum(p.startswith("confusion-zeroshot") for p in pngs) == 2
    assert sum(p.startswith("tsne-") for p in pngs) == 2
    assert all((out / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    # stdout holds what the command produced (the report's paths); what it says about its work is logged
    assert capsys.readouterr().out.split() == [str(out / "report.md"), str(out / "results.json")]
    _check_long_table(out, res)
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(out / "results.jsonl", first / "results.jsonl")

    # Second run: every embedding comes from the cache.
    assert main(args[: -len(FAST)] + FAST + ["--no-plots"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["cache"]["misses"] == 0 and again["cache"]["hits"] >= 10
    before, after = (dict(r["results"]["trained"]["RSITMD"]["retrieval"]) for r in (res, again))
    before.pop("seconds"), after.pop("seconds")
    assert before == after

    # compare: the two saved runs side by side; the same models on the same data, so every delta is zero.
    capsys.readouterr()
    assert main(["compare", str(first / "results.jsonl"), str(out), "--out", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "cmp" / "compare.md").read_text()
    header = printed.splitlines()[0]
    assert header.startswith(
        "| Dataset | Task | Metric | first/trained | first/RS-Tiny (random init) | out/trained |"
    )
    assert "Δ first/trained − out/trained" in header
    with open(tmp_path / "cmp" / "compare.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert all(name.isascii() for name in table[0])
    keys = {(r["dataset"], r["task"], r["metric"], r["shots"]) for r in table}
    assert len(table) == len(keys) == 7 + 2 + 2 + 2 + 2
    few = {r["shots"]: r for r in table if r["task"] == "fewshot"}
    for k in ("1", "4"):  # the mean over seeds of the run's own figures
        assert float(few[k]["first/trained"]) == pytest.approx(
            res["results"]["trained"]["RS2800"]["fewshot"]["shots"][k]["mean"], abs=1e-4
        )
    mean_recall = next(r for r in table if r["task"] == "retrieval" and r["metric"] == "mean_recall")
    assert float(mean_recall["first/trained"]) == pytest.approx(
        res["results"]["trained"]["RSITMD"]["retrieval"]["mean_recall"], abs=1e-4
    )
    assert float(mean_recall["delta first/trained - out/trained"]) == 0
    assert float(mean_recall["delta first/trained - first/RS-Tiny (random init)"]) == pytest.approx(
        mean_recall_delta(res), abs=1e-3
    )
    assert main(["compare", str(out), "--metric", "top1"]) == 0
    assert {
        line.split(" | ")[2] for line in capsys.readouterr().out.splitlines()[2:] if line.startswith("| ")
    } == {"top1", "top1, 1-shot (mean over seeds)", "top1, 4-shot (mean over seeds)"}


def mean_recall_delta(res):
    r = res["results"]
    return (
        r["trained"]["RSITMD"]["retrieval"]["mean_recall"]
        - r["RS-Tiny (random init)"]["RSITMD"]["retrieval"]["mean_recall"]
    )


def _check_long_table(out, res):
    """results.jsonl and results.csv: the same rows, one per model x dataset x task x metric, each naming
    its model's spec and fingerprint and its dataset's manifest hash, every figure equal to results.json's."""
    from rs_clip_eval import read_results_table

    rows = read_results_table(out)
    with open(out / "results.csv", newline="") as f:
        as_csv = list(csv.DictReader(f))
    blank = {"shots": "", "seed": ""}
    assert [
        {
            **{k: str(v) for k, v in r.__dict__.items() if v is not None},
            **{k: "" for k in blank if getattr(r, k) is None},
        }
        for r in rows
    ] == as_csv
    keys = [(r.model, r.dataset, r.task, r.metric, r.shots, r.seed) for r in rows]
    assert len(keys) == len(set(keys))
    models = {m["label"]: m for m in res["models"]}
    assert {r.model for r in rows} == set(models)
    for r in rows:
        assert (
            r.model_spec == models[r.model]["spec"] and r.model_fingerprint == models[r.model]["fingerprint"]
        )
        assert r.dataset_sha256 == res["datasets"][r.dataset]["manifest_sha256"] and r.split == "test"
        assert r.unit == "%" and 0 <= r.value <= 100 and r.created == res["created"]
        figures = res["results"][r.model][r.dataset][r.task]
        if r.task == "fewshot":  # one row per K and seed, as the run's JSON lists them
            runs = figures["shots"][str(r.shots)]["runs"]
            assert r.metric == "top1" and r.value == next(x["top1"] for x in runs if x["seed"] == r.seed)
        else:
            assert r.shots is None and r.seed is None
            assert r.value == figures[r.metric]
    tasks = {
        (r.dataset, r.task): {x.metric for x in rows if (x.dataset, x.task) == (r.dataset, r.task)}
        for r in rows
    }
    assert tasks["RSITMD", "retrieval"] == {
        "i2t_R@1",
        "i2t_R@5",
        "i2t_R@10",
        "t2i_R@1",
        "t2i_R@5",
        "t2i_R@10",
        "mean_recall",
    }
    assert tasks["RS2800", "knn"] == {"top1", "mean_per_class_recall"}
    assert tasks["RS2800", "fewshot"] == {"top1"}
    few = [(r.model, r.shots, r.seed) for r in rows if r.task == "fewshot"]
    seeds = res["results"][rows[0].model]["RS2800"]["fewshot"]["seeds"]
    assert sorted(few) == sorted((m, k, seed) for m in models for k in (1, 4) for seed in seeds)
    assert tasks["RS2800", "zeroshot"] == {"top1", "mean_per_class_recall"}  # no top-5 of 4 classes


def test_single_task_verbs(tiny_checkpoint, data_dir, tmp_path):
    common = [
        "--model",
        str(tiny_checkpoint),
        "--cache-dir",
        str(tmp_path / "c"),
        "--loader-workers",
        "0",
        *FAST,
        "--no-plots",
    ]
    assert main(["retrieval", "--data", str(data_dir / "caps"), "--out", str(tmp_path / "r"), *common]) == 0
    r = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert set(next(iter(r.values()))["synthetic-captions"]) == {"retrieval"}
    assert (
        main(
            [
                "zeroshot",
                "--data",
                str(data_dir / "scenes"),
                "--templates",
                "resisc45",
                "--out",
                str(tmp_path / "z"),
                *common,
            ]
        )
        == 0
    )
    z = json.loads((tmp_path / "z" / "results.json").read_text())["results"]
    assert len(next(iter(z.values()))["synthetic-scenes"]["zeroshot"]["templates"]) == 18
    assert (
        main(["knn", "--data", str(data_dir / "scenes"), "--k", "3", "--out", str(tmp_path / "k"), *common])
        == 0
    )
    assert (
        main(
            [
                "fewshot",
                "--data",
                str(data_dir / "scenes"),
                "--shots",
                "2",
                "--seeds",
                "0",
                "--out",
                str(tmp_path / "f"),
                *common,
            ]
        )
        == 0
    )
    f = json.loads((tmp_path / "f" / "results.json").read_text())["results"]
    assert list(next(iter(f.values()))["synthetic-scenes"]["fewshot"]["shots"]) == ["2"]
    assert (
        main(["linear-probe", "--data", str(data_dir / "scenes"), "--out", str(tmp_path / "l"), *common]) == 0
    )
    # bf16 autocast: runs on a CPU too, and is cached apart from the fp32 embeddings.
    assert (
        main(
            [
                "knn",
                "--data",
                str(data_dir / "scenes"),
                "--precision",
                "amp_bf16",
                "--out",
                str(tmp_path / "b"),
                *common,
            ]
        )
        == 0
    )
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert b["cache"]["misses"] == 2 and b["config"]["precision"] == "amp_bf16"


def _fails(args, capsys, *needles):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rs-clip-eval: error: ") and "Traceback" not in err and err.count("\n") == 1
    for n in needles:
        assert n in err, err
    return err


def test_bad_input_gives_one_clean_line(tiny_checkpoint, data_dir, suite_file, tmp_path, capsys, monkeypatch):
    out = "--out=" + str(tmp_path / "o")
    common = [
        "--cache-dir",
        str(tmp_path / "c"),
        "--loader-workers",
        "0",
        "--no-progress",
        "--no-plots",
        "-q",
    ]
    ds = str(data_dir / "scenes")
    _fails(
        ["knn", "--model", "RS-Tiny", "--data", str(tmp_path / "missing"), out, *common],
        capsys,
        "missing",
        "no such dataset directory",
    )
    _fails(
        ["zeroshot", "--model", "RS-Tiny", "--data", str(data_dir / "caps"), out, *common],
        capsys,
        "'captions' dataset",
        "zeroshot",
    )
    _fails(
        ["retrieval", "--model", "RS-Tiny", "--data", ds, out, *common], capsys, "'classification' dataset"
    )
    _fails(
        ["knn", "--model", "RS-Tiny", "--data", ds, "--split", "val", out, *common], capsys, "no split 'val'"
    )
    _fails(
        ["knn", "--model", f"RS-Tiny:{tmp_path / 'none.pt'}", "--data", ds, out, *common],
        capsys,
        "none.pt",
        "no such weights file",
    )
    _fails(
        ["knn", "--model", "No-Such-Arch", "--data", ds, out, *common], capsys, "unknown model 'No-Such-Arch'"
    )
    _fails(
        ["knn", "--model", f"remoteclip-vit-b-16:{tmp_path}", "--data", ds, out, *common],
        capsys,
        "remoteclip-vit-b-16",
        "neither a zoo entry",
        "did you mean",
    )
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # nothing there; nothing downloaded
    _fails(
        ["knn", "--model", "hf-hub:org/absent", "--data", ds, out, *common],
        capsys,
        "hf-hub:org/absent: not in the local Hugging Face cache",
    )

    # Weights of another architecture: the first mismatching keys are named.
    wrong = tmp_path / "wrong.pt"
    torch.save(
        {"state_dict": {"visual.conv1.weight": torch.zeros(3), "text_projection": torch.zeros(2, 2)}}, wrong
    )
    _fails(
        ["knn", "--model", f"RS-Tiny:{wrong}", "--data", ds, out, *common],
        capsys,
        "does not match architecture RS-Tiny",
        "missing (first:",
    )
    bad_ckpt = tmp_path / "bad-ckpt"
    write_checkpoint(bad_ckpt, {"w": torch.zeros(2)}, model_name="RS-Tiny", step=1)
    _fails(["knn", "--model", str(bad_ckpt), "--data", ds, out, *common], capsys, "does not match")

    suite = tmp_path / "s.yaml"
    suite.write_text("datasets:\n  - path: x\n    tasks: [segmentation]\n")
    _fails(
        ["run", "--model", "RS-Tiny", "--suite", str(suite), out, *common], capsys, "s.yaml", "unknown task"
    )
    suite.write_text("datasets: [\n  - path: x\n")
    _fails(["run", "--model", "RS-Tiny", "--suite", str(suite), out, *common], capsys, "s.yaml", "not valid")
    _fails(
        ["run", "--model", "RS-Tiny", "--suite", str(tmp_path / "no.yaml"), out, *common],
        capsys,
        "no such suite file",
    )
    _fails(
        ["run", "--model", "RS-Tiny", "--suite", "paper", "--data-root", str(tmp_path), out, *common],
        capsys,
        "none of the paper's datasets",
    )
    _fails(
        [
            "run",
            "--model",
            "RS-Tiny",
            "--model",
            "RS-Tiny",
            "--suite",
            str(suite_file),
            out,
            *common,
        ],
        capsys,
        "same label",
    )


def test_paper_suite_finds_datasets_by_name(data_dir, tmp_path, caplog):
    from rs_clip_eval.suites import load_suite

    root = tmp_path / "root"
    root.mkdir()
    (root / "rsitmd").symlink_to(data_dir / "caps")
    (root / "WHU_RS19").symlink_to(data_dir / "scenes")  # case and punctuation ignored
    for folder in ("eurosat-rgb", "whu-earth", "rsscn7", "RS2800"):  # reproduce.md's names, and the paper's
        (root / folder).symlink_to(data_dir / "scenes")
    suite = load_suite("paper", data_root=root)
    assert [d.name for d in suite.datasets] == ["RSITMD", "SIRI-WHU", "EuroSAT", "RS2800", "WHU-RS19"]
    assert [d.path.name for d in suite.datasets] == [
        "rsitmd",
        "whu-earth",
        "eurosat-rgb",
        "rsscn7",
        "WHU_RS19",
    ]
    assert "using rsscn7 as RS2800; RS2800 not used" in caplog.text
    assert suite.datasets[1].tasks == ("zeroshot", "linear_probe", "fewshot", "knn")
    assert suite.missing == [
        "RSICD",
        "UCM",
        "RSI-CB128",
        "RSI-CB256",
        "MLRSNet",
        "PatternNet",
        "RESISC45",
        "AID",
        "OPTIMAL-31",
        "RSC11",
    ]


def test_imports_without_ray_or_deepspeed():
    code = (
        "import sys, rs_clip_eval.cli, rs_clip_eval.runner, rs_clip_eval.report, rs_clip_models.encoding; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('ray', 'deepspeed')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_console_convention(tiny_checkpoint, data_dir, tmp_path, capsys):
    from rs_clip_eval import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"rs-clip-eval {__version__}"
    common = [
        "--model",
        "RS-Tiny",
        "--data",
        str(data_dir / "caps"),
        "--cache-dir",
        str(tmp_path / "c"),
        "--no-plots",
        "--tsne-points",
        "0",
        "--no-progress",
    ]
    # Old spellings still work for one release, each with a warning: positional OUT_DIR, --workers.
    assert main(["retrieval", str(tmp_path / "old"), "--workers", "0", *common]) == 0
    err = capsys.readouterr().err
    assert (
        "rs-clip-eval retrieval: warning: --workers is deprecated and will be removed; use --loader-workers"
        in err
    )
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
