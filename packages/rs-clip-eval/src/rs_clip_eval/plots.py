"""Plots of rs-clip-eval's reports (matplotlib, Agg backend) and the file names they get.

Public API, shared with rs-count: :func:`pyplot` (matplotlib's pyplot on the Agg backend, imported on
first use), :func:`plot_confusion` (any confusion matrix) and :func:`slug` (a label as a file-name part).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rs_formats.columns import captions_of

from .zeroshot import class_prompts, resolve_templates

if TYPE_CHECKING:  # the report's plots take a suite run; importing the runner here would import torch
    from .runner import RunResult


def slug(text: str) -> str:
    """A model or dataset label as part of a file name: ``"RS-Tiny (random init)"`` -> ``"rs-tiny-random-init"``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80] or "x"


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fewshot(run: RunResult, ds: str, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for m in run.models:
        res = run.results[m.label][ds]["fewshot"]["shots"]
        k = [int(s) for s in res]
        ax.errorbar(
            k,
            [res[s]["mean"] for s in res],
            yerr=[res[s]["std"] for s in res],
            marker="o",
            capsize=3,
            label=m.label,
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(k, [str(s) for s in k])
    ax.set(xlabel="shots per class", ylabel="top-1 accuracy (%)", title=f"Few-shot linear probe: {ds}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(
    matrix: Sequence[Sequence[int]],
    labels: Sequence[str],
    title: str,
    path: str | Path,
    *,
    xlabel: str = "predicted",
    ylabel: str = "true",
) -> Path:
    """A confusion matrix as a heat map of row shares (each true row sums to 1), with the counts written
    in when there are at most 20 classes. Zero-shot classes and RemoteCount's counts 1-10 alike."""
    plt = pyplot()
    cm = np.asarray(matrix, dtype=np.float64)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    n = len(labels)
    size = min(3 + 0.35 * n, 14)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    rotation = 90 if max(len(str(c)) for c in labels) > 3 else 0
    ax.set_xticks(range(n), labels, rotation=rotation, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(
                        j,
                        i,
                        int(cm[i, j]),
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true row")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def tsne_points(run: RunResult, label: str, max_points: int, seed: int = 0):
    """Image and text embeddings of every dataset (from the cache), subsampled: (X, dataset, modality, class)."""
    emb = run.embedders[label]
    rng = np.random.default_rng(seed)
    per = max(2, max_points // (2 * max(len(run.opened), 1)))
    xs, ds_of, mod_of, cls_of = [], [], [], []

    def add(x: np.ndarray, name: str, modality: str, classes: list[str]) -> None:
        pick = np.sort(rng.permutation(len(x))[:per])
        xs.append(x[pick])
        ds_of.extend([name] * len(pick))
        mod_of.extend([modality] * len(pick))
        cls_of.extend(classes[i] for i in pick)

    with emb.for_task("t-SNE"):  # embeddings the tasks did not need, if any
        for name, (ds, entry) in run.opened.items():
            images = emb.images(ds, entry.split)
            if ds.kind == "captions":
                texts, owner = captions_of(ds, entry.split)
                add(images, name, "image", [""] * len(images))
                add(emb.texts(ds, entry.split, texts, "captions"), name, "text", [""] * len(texts))
            else:
                labels = ds.read_table(entry.split, ["label"]).column("label").to_pylist()
                add(images, name, "image", [ds.class_names[v] for v in labels])
                templates = resolve_templates(entry.templates)
                prompts = class_prompts(ds.class_names, templates)
                add(
                    emb.texts(ds, entry.split, prompts, "prompts"),
                    name,
                    "text",
                    [c for c in ds.class_names for _ in templates],
                )
    return np.concatenate(xs), ds_of, mod_of, cls_of


def plot_tsne(run: RunResult, label: str, path: Path, max_points: int = 1000) -> None:
    from sklearn.manifold import TSNE

    plt = pyplot()
    x, ds_of, mod_of, cls_of = tsne_points(run, label, max_points, run.config.seed)
    if len(x) < 5:
        return
    xy = TSNE(
        n_components=2, perplexity=min(30.0, (len(x) - 1) / 3), init="pca", random_state=0, max_iter=500
    ).fit_transform(x.astype(np.float64))
    # Colour by dataset when there are several (paper Fig. 5), else by class.
    groups = ds_of if len(set(ds_of)) > 1 else [c or d for c, d in zip(cls_of, ds_of)]
    names = sorted(set(groups))
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for gi, g in enumerate(names):
        for modality, marker in (("image", "o"), ("text", "x")):
            sel = [i for i in range(len(x)) if groups[i] == g and mod_of[i] == modality]
            if sel:
                ax.scatter(
                    xy[sel, 0],
                    xy[sel, 1],
                    s=12,
                    marker=marker,
                    color=cmap(gi % cmap.N),
                    label=f"{g} ({modality})",
                    alpha=0.8,
                )
    ax.set(title=f"t-SNE of image (o) and text (x) embeddings: {label}", xticks=[], yticks=[])
    ax.legend(fontsize=6, loc="best", ncol=1 + len(names) // 8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_plots(run: RunResult, out_dir: Path, tsne_max_points: int = 1000) -> dict[str, list[str]]:
    plots: dict[str, list[str]] = {"few-shot": [], "confusion": [], "t-SNE": []}
    pdir = out_dir / "plots"
    pdir.mkdir(parents=True, exist_ok=True)
    for ds in run.datasets_with("fewshot"):
        f = pdir / f"fewshot-{slug(ds)}.png"
        plot_fewshot(run, ds, f)
        plots["few-shot"].append(str(f.relative_to(out_dir)))
    for ds in run.datasets_with("zeroshot"):
        for m in run.models:
            f = pdir / f"confusion-zeroshot-{slug(m.label)}-{slug(ds)}.png"
            res = run.results[m.label][ds]["zeroshot"]
            plot_confusion(
                res["confusion_matrix"],
                run.datasets[ds]["class_names"],
                f"zero-shot {ds}: {m.label} (top-1 {res['top1']:.1f}%)",
                f,
            )
            plots["confusion"].append(str(f.relative_to(out_dir)))
    if tsne_max_points > 0:
        for m in run.models:
            f = pdir / f"tsne-{slug(m.label)}.png"
            plot_tsne(run, m.label, f, tsne_max_points)
            if f.exists():
                plots["t-SNE"].append(str(f.relative_to(out_dir)))
    return plots
