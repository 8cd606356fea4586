"""Each use installs, with the README's own install commands, in a fresh venv with only what its job needs.

The commands are read from the README's Install section (doc_installs.readme_installs), the one list of
how to install each use, and run as written: from a clone (the repository's folders) and, for the
converter, from a git URL (``RS=git+file://...`` of a commit of the working tree, the form a user writes
with the repository's https URL). Two venvs: the converter's (torch-free), and one in which evaluation,
RemoteCount and training are installed one after the other, each checked before the next adds to it
(every torch install costs a minute or more; each later use's command names all it needs, as
test_docs_commands.py checks, and ``pip check`` finds the result consistent). These tests build real
virtual environments with pip (from the machine's package index), so they are slow and run in CI like
every other test.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest
from conftest import REPO
from doc_commands import Command
from doc_installs import install_words, named_packages, readme_installs

pytestmark = pytest.mark.slow

#: The packages each use's install command names (a command is found by what it installs).
USES = {
    "converter": {"rs-formats", "rs-annotate"},
    "evaluation": {"rs-formats", "rs-clip-models", "rs-clip-eval"},
    "RemoteCount": {"rs-formats", "rs-clip-models", "rs-annotate", "rs-clip-eval", "rs-count"},
    "training": {"rs-formats", "rs-clip-models", "rs-clip-train"},
    "archive search": {"rs-formats", "rs-clip-models", "rs-clip-search"},
}


def install_command(use: str, git_url: bool = False) -> Command:
    (cmd,) = [
        c
        for c in readme_installs()
        if set(named_packages(install_words(c))) == USES[use]
        and ("git+" in " ".join(install_words(c))) == git_url
        and not any(named_packages(install_words(c)).values())
    ]  # no extras
    return cmd


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def run(python: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(python), *args], capture_output=True, text=True, cwd=REPO)
    assert not check or proc.returncode == 0, f"{args} failed:\n{proc.stderr[-3000:]}"
    return proc


def pip(python: Path, cmd: Command, **variables: str) -> None:
    """Run a README install command (``pip install ...``) with this venv's pip, in the repository."""
    words = install_words(Command(cmd.doc, cmd.line, cmd.text, {**cmd.variables, **variables}))
    assert words[:2] == ["pip", "install"], cmd.text
    proc = run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *words[2:], check=False)
    assert proc.returncode == 0, f"{cmd.where()}: {cmd.text}\n{proc.stderr[-3000:]}"


def installed(python: Path) -> set[str]:
    out = run(python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check").stdout
    return {line.split("==")[0].lower().replace("_", "-") for line in out.splitlines() if "==" in line}


def git_url(tmp: Path) -> str:
    """A git repository holding the working tree's packages as one commit, as a URL pip installs from (the
    ``localhost`` spelling, which the pip of a fresh venv also accepts)."""
    repo = tmp / "rs-clip"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "packages"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in filter(lambda n: (REPO / n).is_file(), files):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((REPO / name).read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "working tree"], check=True)
    return f"git+file://localhost{repo}"


def test_the_converter_installs_and_runs_without_torch(tmp_path):
    py = make_venv(tmp_path / "venv")
    pip(py, install_command("converter"))
    have = installed(py)
    assert {"rs-formats", "rs-annotate"} <= have and not {"torch", "rs-clip-models"} & have
    proc = run(py, "-c", "import torch", check=False)
    assert proc.returncode != 0 and "No module named 'torch'" in proc.stderr
    proc = run(py, "-c", "import rs_annotate, rs_annotate.cli, rs_formats; print('ok')")
    assert proc.stdout.strip() == "ok"
    assert run(py, "-m", "rs_annotate.cli", "--help").returncode == 0

    # the same use from the git URL: pip must get rs-formats from the URL too (it is on no index)
    run(py, "-m", "pip", "uninstall", "-q", "-y", "rs-formats", "rs-annotate")
    pip(py, install_command("converter", git_url=True), RS=git_url(tmp_path))
    have = installed(py)
    assert {"rs-formats", "rs-annotate"} <= have and "torch" not in have
    assert run(py, str(Path(py).with_name("rs-annotate")), "--version").stdout.startswith("rs-annotate 0")


def test_evaluation_remotecount_and_training_install_with_what_each_needs(tmp_path):
    py = make_venv(tmp_path / "venv")
    probe = "import sys, {m}, {m}.cli; assert not {{'ray', 'deepspeed'}} & set(sys.modules); print('ok')"

    pip(py, install_command("evaluation"))
    have = installed(py)
    assert {"torch", "open-clip-torch", "rs-clip-models", "rs-clip-eval"} <= have
    assert not {"ray", "deepspeed", "rs-synth", "rs-count", "rs-annotate"} & have
    assert run(py, "-c", probe.format(m="rs_clip_eval")).stdout.strip() == "ok"
    # --suite demo used to need rs-synth, a test package; synthetic sets are rs-synth's own now
    proc = run(
        py,
        "-m",
        "rs_clip_eval.cli",
        "run",
        "--model",
        "RS-Tiny",
        "--suite",
        "demo",
        "--out",
        str(tmp_path / "o"),
        check=False,
    )
    assert proc.returncode == 2 and "no such suite file" in proc.stderr

    # RemoteCount: its parts come from rs-annotate (torch-free) and rs-clip-eval (no Ray/DeepSpeed)
    pip(py, install_command("RemoteCount"))
    assert not {"ray", "deepspeed", "rs-synth"} & installed(py)
    assert run(py, "-c", probe.format(m="rs_count")).stdout.strip() == "ok"
    version = run(py, "-m", "rs_count.cli", "--version").stdout.split()
    assert version[0] == "rs-count" and version[1] != "0+unknown"

    # archive search: its own index and server libraries, still no Ray or DeepSpeed
    pip(py, install_command("archive search"))
    assert {"usearch", "rasterio", "fastapi", "uvicorn"} <= installed(py)
    assert not {"ray", "deepspeed", "rs-synth"} & installed(py)
    assert (
        run(
            py, "-c", probe.format(m="rs_clip_search").replace(".cli;", ".cli, rs_clip_search.app;")
        ).stdout.strip()
        == "ok"
    )

    # training: DeepSpeed and Ray come with it
    pip(py, install_command("training"))
    assert {"deepspeed", "ray", "rs-clip-train"} <= installed(py)
    run(py, "-m", "pip", "check", "--disable-pip-version-check")
    assert run(py, "-m", "rs_clip_train", "--version").stdout.startswith("rs-clip-train 0")
