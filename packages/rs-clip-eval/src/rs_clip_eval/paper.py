"""The RemoteCLIP paper's evaluation: its datasets, under its names, and the published figures we can cite.

**Datasets.** The paper evaluates retrieval on RET-3 (RSITMD, RSICD, UCM; Table II) and zero-shot,
few-shot, linear-probe and k-NN classification on 12 scene sets (Tables III-IV, Fig. 8), named as the
paper's Fig. 5 names them. :data:`PAPER_DATASETS` lists them in the order of the authors' results table
(issue #3) with the directory names the built-in ``paper`` suite finds them under: docs/reproduce.md's
names first (the rs-annotate reader that converts each), then other common spellings. Two of the paper's
names are not the collections' usual ones:

* **RS2800** is RSSCN7: the paper cites it as "RS2800 [104]", reference [104] being Zou et al., "Deep
  learning based feature selection for remote sensing scene classification" (IEEE GRSL 2015), RSSCN7's
  paper (2,800 images, 7 classes of 400).
* **SIRI-WHU** (Fig. 5) is the paper's "WHU-earth [102]" (Tables III-IV), reference [102] being Zhao et
  al., "Dirichlet-derived multiple topic scene classification model for high spatial resolution remote
  sensing imagery" (IEEE TGRS 2016), SIRI-WHU's paper; rs-annotate's reader is ``whu-earth``.

**Published figures** live in ``published.csv`` beside this module, one figure per row with its source
(:data:`SOURCES`): every figure of the paper's Tables II-IV as its text prints them (the prior methods of
Table II included; Table III's CLIP, RemoteCLIP and printed delta rows, model ``Δ RemoteCLIP − CLIP``; each
row's printed average as dataset ``Average``), RemoteCLIP-RN50's few-shot figures of Fig. 8 as the first
author gave them in issue #3 (the text gives Fig. 8 as a plot only), and GeoRSCLIP's figures from *their*
README (another paper's: labelled as theirs). Backbones: ``RN50``, ``ViT-B-32``, ``ViT-L-14`` for CLIP and
its continual pretrainings (Table IV's "ViT-Base" is RemoteCLIP's ViT-B-32), the paper's own words
otherwise (``ResNet-50`` for ImageNet and self-supervised ResNets, ``ViT-Base`` for ImageNet and VITAE).
Three rows of Table IV print fewer figures than they have cells (VICReg 24, CLIP-CL and RemoteCLIP RN50 25
of 26): their cells are taken in reading order up to the first one the printed sequence no longer fits,
and the rest are left out rather than guessed (docs/fidelity.md; ``tests/test_published.py`` lists them
with the paper's other inconsistencies).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

RETRIEVAL_METRICS = ("i2t_R@1", "i2t_R@5", "i2t_R@10", "t2i_R@1", "t2i_R@5", "t2i_R@10", "mean_recall")


@dataclass(frozen=True)
class PaperDataset:
    name: str  # as the paper names it (and our reports show it)
    kind: str  # rs-dataset kind: "captions" (retrieval) or "classification"
    folders: tuple[str, ...]  # directory names looked for, in order of preference (docs/reproduce.md's first)


PAPER_DATASETS: tuple[PaperDataset, ...] = (
    PaperDataset("RSITMD", "captions", ("rsitmd",)),
    PaperDataset("RSICD", "captions", ("rsicd",)),
    PaperDataset("UCM", "captions", ("ucm", "ucm-captions", "ucmerced", "ucmerced-captions")),
    PaperDataset("RSI-CB128", "classification", ("rsi-cb128",)),
    PaperDataset("RSI-CB256", "classification", ("rsi-cb256",)),
    PaperDataset("SIRI-WHU", "classification", ("whu-earth", "siri-whu")),
    PaperDataset("EuroSAT", "classification", ("eurosat-rgb", "eurosat")),
    PaperDataset("MLRSNet", "classification", ("mlrsnet",)),
    PaperDataset("PatternNet", "classification", ("patternnet",)),
    PaperDataset("RESISC45", "classification", ("resisc45", "nwpu-resisc45")),
    PaperDataset("AID", "classification", ("aid",)),
    PaperDataset("RS2800", "classification", ("rsscn7", "rs2800")),
    PaperDataset("OPTIMAL-31", "classification", ("optimal-31",)),
    PaperDataset("RSC11", "classification", ("rsc11",)),
    PaperDataset("WHU-RS19", "classification", ("whu-rs19",)),
)


@dataclass(frozen=True)
class Source:
    label: str  # short, shown beside each figure
    publisher: str  # whose figure it is: "RemoteCLIP paper" or another work's name
    citation: str  # where exactly it comes from


SOURCES: dict[str, Source] = {
    "table-2": Source(
        "RemoteCLIP paper, Table II",
        "RemoteCLIP paper",
        "Liu, Chen et al., RemoteCLIP (IEEE TGRS 2024, arXiv 2306.11029), Table II (CLIP-CL: CLIP continually "
        "trained on RET-3 only; the table has no zero-shot CLIP row)",
    ),
    "table-3": Source(
        "RemoteCLIP paper, Table III",
        "RemoteCLIP paper",
        "Liu, Chen et al., RemoteCLIP (IEEE TGRS 2024, arXiv 2306.11029), Table III (zero-shot top-1, prompt "
        "'a satellite photo of {class name}.'; its WHU-earth is SIRI-WHU, reference [102])",
    ),
    "table-4": Source(
        "RemoteCLIP paper, Table IV",
        "RemoteCLIP paper",
        "Liu, Chen et al., RemoteCLIP (IEEE TGRS 2024, arXiv 2306.11029), Table IV (linear probe and k-NN "
        "with k = 20, T = 0.07; cells the text does not print legibly are left out)",
    ),
    "issue-3": Source(
        "RemoteCLIP paper, Fig. 8, given in issue #3",
        "RemoteCLIP paper",
        "github.com/ChenDelong1999/RemoteCLIP/issues/3: the first author's table of RemoteCLIP-RN50's "
        "few-shot results in Fig. 8 (16-shot known for the first nine sets only)",
    ),
    "georsclip": Source(
        "GeoRSCLIP README",
        "GeoRSCLIP (RS5M)",
        "Zhang et al., RS5M and GeoRSCLIP (arXiv 2306.11300): README of github.com/om-ai-lab/RS5M "
        "(commit 084cdd95); their CLIP-Baseline (backbone not stated) and GeoRSCLIP-FT (fine-tuned on RS5M, "
        "then on the named set; ViT-B-32, the architecture of their released fine-tunes). Not RemoteCLIP's",
    ),
}


@dataclass(frozen=True)
class Figure:
    source: str  # key of SOURCES
    task: str
    dataset: str  # the paper's name
    model: str
    backbone: str  # "" where the source does not say
    metric: str
    value: float  # percent

    @property
    def row_label(self) -> str:
        """The figure's row in a report: model, backbone and source."""
        backbone = f" {self.backbone}" if self.backbone else " (backbone not stated)"
        return f"{self.model}{backbone} *({SOURCES[self.source].label})*"

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "task": self.task,
            "dataset": self.dataset,
            "model": self.model,
            "backbone": self.backbone,
            "metric": self.metric,
            "value": self.value,
            "publisher": SOURCES[self.source].publisher,
            "citation": SOURCES[self.source].citation,
        }


@cache
def published_figures() -> tuple[Figure, ...]:
    """Every figure in ``published.csv`` (shipped with the package, not user input)."""
    text = resources.files(__package__).joinpath("published.csv").read_text(encoding="utf-8")
    figures = tuple(
        Figure(
            r["source"], r["task"], r["dataset"], r["model"], r["backbone"], r["metric"], float(r["value"])
        )
        for r in csv.DictReader(text.splitlines())
    )
    unknown = {f.source for f in figures} - set(SOURCES)
    if unknown:
        raise ValueError(f"published.csv: figures without a known source: {sorted(unknown)}")
    return figures


def name_key(name: str) -> str:
    """A dataset or folder name with case and punctuation dropped: how names are matched."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def paper_name(name: str) -> str | None:
    """The paper's name for a dataset called ``name`` (a paper name or one of its folder names, case and
    punctuation ignored), or None."""
    key = name_key(name)
    for d in PAPER_DATASETS:
        if key == name_key(d.name) or key in {name_key(f) for f in d.folders}:
            return d.name
    return None


AVERAGE = "Average"  # the dataset name of a row's printed average (Tables III and IV)


def are_the_twelve(names: list[str]) -> bool:
    """Whether ``names`` are exactly the paper's 12 classification sets (any of their names), so that a
    table over them can show the paper's printed averages."""
    twelve = sorted(d.name for d in PAPER_DATASETS if d.kind == "classification")
    return sorted(map(paper_name, names), key=str) == twelve


def figures_for(task: str, dataset: str) -> list[Figure]:
    """Published figures of ``task`` on the dataset a report calls ``dataset`` (or on :data:`AVERAGE`,
    the rows' printed averages over the paper's 12 sets), in the file's order."""
    name = AVERAGE if dataset == AVERAGE else paper_name(dataset)
    return [f for f in published_figures() if f.task == task and f.dataset == name] if name else []
