"""The Python API (``rs_clip_eval.run`` / ``compare`` / ``embed`` / ``search``): the figures and files the
commands give, as pyarrow tables."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

import rs_clip_eval
from rs_clip_eval import EmbeddingCache, EvalConfig
from rs_clip_eval.cli import main
from rs_formats import FormatError
from rs_formats.results_table import COLUMNS, read_results_table

CFG = EvalConfig(device="cpu", loader_workers=0, progress=False, batch_size=16, probe={"epochs": 5})


def test_top_level_names_are_the_functions_whatever_is_imported():
    for mod in pkgutil.iter_modules(rs_clip_eval.__path__):
        importlib.import_module(f"rs_clip_eval.{mod.name}")
    for name in ("run", "compare", "embed", "search"):
        assert callable(getattr(rs_clip_eval, name)) and name in rs_clip_eval.__all__
        assert getattr(rs_clip_eval, name).__doc__.count("Args:") == 1


def test_importing_the_api_imports_no_torch():
    code = "import sys, rs_clip_eval; assert rs_clip_eval.run and 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_run_returns_the_results_table_the_command_writes(data_dir, tmp_path, capsys):
    cache = EmbeddingCache(tmp_path / "cache")
    table = rs_clip_eval.run(
        ["RS-Tiny"], [data_dir / "scenes"], tasks=["zeroshot", "knn"], config=CFG, cache=cache
    )
    assert table.column_names == list(COLUMNS) and table.schema.field("value").type == pa.float64()
    assert set(table.column("task").to_pylist()) == {"zeroshot", "knn"}
    assert cache.misses == 3  # train and test images, prompts: embedded once, by the API

    out = tmp_path / "cli"
    args = ["knn", "--model", "RS-Tiny", "--data", str(data_dir / "scenes"), "--out", str(out)]
    assert main([*args, "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--no-plots"]) == 0
    assert capsys.readouterr().out.split() == [str(out / "report.md"), str(out / "results.json")]
    written = [r for r in read_results_table(out) if r.task == "knn"]
    api_knn = [r for r in table.to_pylist() if r["task"] == "knn"]
    assert [(r.metric, r.value) for r in written] == [(r["metric"], r["value"]) for r in api_knn]

    again = rs_clip_eval.run("RS-Tiny", data_dir / "scenes", tasks=["knn"], config=CFG, cache=cache, out=out)
    assert json.loads(again.schema.metadata[b"files"])["markdown"] == str(out / "report.md")
    assert again.to_pylist() == [r.__dict__ for r in read_results_table(out)]


def test_run_takes_a_suite_file_and_refuses_tasks_for_it(data_dir, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"datasets:\n  - path: {data_dir / 'caps'}\n    name: mine\n")
    table = rs_clip_eval.run("RS-Tiny", suite, config=CFG, cache=EmbeddingCache(enabled=False))
    assert set(table.column("dataset").to_pylist()) == {"mine"}
    assert "mean_recall" in table.column("metric").to_pylist()
    with pytest.raises(ValueError, match="a suite names its own"):
        rs_clip_eval.run("RS-Tiny", suite, tasks=["knn"], config=CFG)
    with pytest.raises(FormatError, match="not an rs-dataset"):  # a folder is a dataset, never a suite
        rs_clip_eval.run("RS-Tiny", tmp_path, config=CFG)


def test_compare_lines_runs_up_with_deltas(data_dir, tmp_path, capsys):
    cache = EmbeddingCache(tmp_path / "cache")
    for name, model in (("a", "RS-Tiny"), ("b", "other=RS-Tiny-quickgelu")):
        rs_clip_eval.run(model, data_dir / "caps", config=CFG, cache=cache, out=tmp_path / name, plots=False)
    table = rs_clip_eval.compare([tmp_path / "a", tmp_path / "b"], ["mean_recall"], out=tmp_path / "cmp")
    columns = table.column_names
    assert columns[:4] == ["dataset", "task", "metric", "unit"] and len(columns) == 7
    row = table.to_pylist()[0]
    first, second, delta = (row[c] for c in columns[4:])
    assert delta == pytest.approx(first - second)
    a = [r.value for r in read_results_table(tmp_path / "a") if r.metric == "mean_recall"]
    assert [first] == a
    assert (tmp_path / "cmp" / "compare.md").read_text() == table.schema.metadata[b"markdown"].decode()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--metric", "mean_recall"]) == 0
    assert capsys.readouterr().out == table.schema.metadata[b"markdown"].decode()


def test_embed_then_search_finds_an_image_by_its_own_embedding_rank(data_dir, tmp_path, capsys):
    from rs_clip_models.encoding import encode_texts
    from rs_clip_models.models import load_spec
    from rs_clip_models.spec import ModelSpec

    out = tmp_path / "emb"
    manifest = rs_clip_eval.embed(
        "RS-Tiny", data_dir / "caps", out, split="test", config=CFG, cache=EmbeddingCache(enabled=False)
    )
    assert manifest["rows"] == 24
    queries = ["a plane", "two ships in a harbour"]
    table = rs_clip_eval.search(out, "RS-Tiny", queries, k=3, device="cpu")
    assert table.column_names == ["query", "rank", "image_id", "row", "score"]
    assert table.column("query").to_pylist() == [queries[0]] * 3 + [queries[1]] * 3

    # brute force: every image's score, best first (ties to the earlier row)
    from rs_formats.embeddings import open_embeddings

    ids, vectors = open_embeddings(out).matrix()
    model, _, tokenizer = load_spec(ModelSpec.parse("RS-Tiny"), "cpu")
    q = encode_texts(model, tokenizer, queries, device="cpu")
    for i, scores in enumerate(q @ vectors.T):
        order = np.lexsort((np.arange(len(scores)), -scores))[:3]
        hits = table.slice(3 * i, 3).to_pylist()
        assert [h["row"] for h in hits] == order.tolist()
        assert [h["image_id"] for h in hits] == [ids[j] for j in order]
        np.testing.assert_allclose([h["score"] for h in hits], scores[order], rtol=1e-5)

    args = ["search", "--model", "RS-Tiny", "--embeddings", str(out), "-k", "3", "--device", "cpu"]
    assert main([*args, "--query", queries[0], "--query", queries[1]]) == 0
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == table.to_pylist()
