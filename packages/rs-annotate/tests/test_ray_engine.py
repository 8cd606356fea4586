"""``convert --engine ray`` on a local 2-node Ray cluster (one CPU per node): the same dataset and report as
the local engine, bad input handled the same way, a killed worker leaves nothing published; its dataset
published to an s3:// URI is the local engine's."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_pipeline import make_broken_copy

from rs_annotate import BadInput, WorkerDied, convert
from rs_annotate.cli import main
from rs_annotate.readers import base
from rs_annotate.readers.base import Option
from rs_annotate.readers.dota import DotaReader
from rs_formats import open_dataset
from rs_synth.registry import FORMATS

pytestmark = pytest.mark.slow

#: The local engine in this process (one worker gives the same rows as many, and starts nothing); Ray's
#: tasks on both nodes.
WORKERS = {"local": {"workers": 1}, "ray": {}}


@pytest.fixture(scope="module")
def cluster():
    from rs_formats.cluster import local_cluster

    with local_cluster(nodes=2) as two:
        yield two


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray-src")
    FORMATS["dota"].write(root / "dota", 24, seed=5, size=128)
    FORMATS["imagefolder"].write(root / "folders", 16, seed=2, size=64)
    return root


@pytest.fixture(scope="module")
def local_dota(sources, tmp_path_factory):
    """The DOTA scenes converted by the local engine with the default options."""
    out = tmp_path_factory.mktemp("local") / "dota"
    convert("dota", sources / "dota", out, workers=1, progress=False)
    return out


def dataset(path):
    ds = open_dataset(path)
    rows = {s: ds.read_table(s).to_pylist() for s in ds.splits}
    manifest = {k: v for k, v in ds.manifest.items() if k not in ("created", "splits", "name")}
    return rows, manifest


def report(rep):
    return {k: v for k, v in rep.to_json().items() if k not in ("out", "seconds")}


@pytest.mark.parametrize(
    "fmt, src, options",
    [
        ("dota", "dota", {"tile": 96, "tile_overlap": 32, "keep_empty": True, "seed": 3}),
        ("imagefolder", "folders", {"short_side": 48, "image_format": "png", "keep_original": False}),
    ],
)
def test_local_and_ray_conversions_are_identical(cluster, sources, tmp_path, fmt, src, options):
    local = convert(fmt, sources / src, tmp_path / "local", workers=1, progress=False, **options)
    on_ray = convert(
        fmt, sources / src, tmp_path / "ray", engine="ray", chunksize=3, progress=False, **options
    )
    assert dataset(tmp_path / "ray") == dataset(tmp_path / "local")
    assert report(on_ray) == report(local) and local.rows >= 16


def test_bad_input_is_handled_as_locally(cluster, sources, tmp_path):
    broken_img, broken_label = make_broken_copy(sources / "dota", tmp_path / "src")
    errors = []
    for engine in ("local", "ray"):
        with pytest.raises(BadInput) as err:
            convert(
                "dota", tmp_path / "src", tmp_path / engine, engine=engine, progress=False, **WORKERS[engine]
            )
        errors.append(str(err.value))
    assert errors[0] == errors[1] and str(broken_img) in errors[1] and "cannot decode image" in errors[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no dataset, no staging dir, no report

    skipped = [
        convert(
            "dota",
            tmp_path / "src",
            tmp_path / engine,
            engine=engine,
            skip_bad=True,
            progress=False,
            **WORKERS[engine],
        )
        for engine in ("local", "ray")
    ]
    assert report(skipped[1]) == report(skipped[0])
    assert [b["file"] for b in skipped[1].bad] == [str(broken_img), str(broken_label)]
    assert dataset(tmp_path / "ray") == dataset(tmp_path / "local")


class GatedDota(DotaReader):
    """DOTA that notes which node converts each item, and waits (to be killed) on one item until a marker
    file exists; the marker holds the waiting worker's process id."""

    OPTIONS = (Option("notes", None, "directory of the notes"), Option("gate", None, "the item to wait on"))

    def read(self, item):
        import ray

        notes = Path(self.options["notes"])
        (notes / ray.get_runtime_context().get_node_id()).touch()
        marker = notes / "waiting.pid"
        if item[0] == self.options["gate"] and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(120)
        return super().read(item)


def kill_when_waiting(marker: Path) -> threading.Thread:
    def kill():
        deadline = time.time() + 120
        while not (marker.exists() and marker.read_text()) and time.time() < deadline:
            time.sleep(0.05)
        os.kill(int(marker.read_text()), signal.SIGKILL)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_a_killed_worker_leaves_no_dataset_and_a_rerun_succeeds(
    cluster, sources, local_dota, tmp_path, monkeypatch
):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    monkeypatch.setitem(base.READERS, "gated-dota", GatedDota)
    notes = tmp_path / "notes"
    notes.mkdir()
    stems = sorted(p.stem for p in (sources / "dota" / "images").iterdir())
    gate = {"reader_options": {"notes": str(notes), "gate": stems[13]}}
    out = tmp_path / "out"

    killer = kill_when_waiting(notes / "waiting.pid")
    with pytest.raises(WorkerDied, match="Ray worker or node was lost"):
        convert(
            "gated-dota", sources / "dota", out, engine="ray", retries=0, chunksize=2, progress=False, **gate
        )
    killer.join()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]  # nothing published, nothing left behind

    (notes / "waiting.pid").unlink()
    killer = kill_when_waiting(notes / "waiting.pid")  # killed again: the rerun's retry finishes the task
    rep = convert(
        "gated-dota", sources / "dota", out, engine="ray", retries=1, chunksize=2, progress=False, **gate
    )
    killer.join()
    assert dataset(out)[0] == dataset(local_dota)[0] and rep.rows == 24
    node_ids = {n.node_id for n in [cluster.head_node, *cluster.worker_nodes]}
    assert {p.name for p in notes.iterdir()} - {"waiting.pid"} == node_ids  # both nodes converted items


def test_cli_writes_only_the_output_path_to_stdout(cluster, sources, local_dota, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["convert", "dota", str(sources / "dota"), "--out", str(out), "--engine", "ray", "-q"]) == 0
    assert capsys.readouterr().out == f"{out}\n"
    assert json.loads((tmp_path / "cli.report.json").read_text())["rows"] == 24
    assert dataset(out) == dataset(local_dota)


def test_the_ray_engine_publishes_to_a_uri(s3, cluster, sources, local_dota):
    uri = f"s3://{s3.bucket}/dota"
    assert convert("dota", sources / "dota", uri, engine="ray", progress=False).out == uri
    assert dataset(uri) == dataset(local_dota)


def test_the_ray_engine_does_not_import_torch():
    code = (
        "import sys\n"
        "import rs_annotate.cli, rs_annotate.ray_engine\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'open_clip'))\n"
        "assert 'ray.data' in sys.modules and not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
