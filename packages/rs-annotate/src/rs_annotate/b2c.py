"""B2C (box to caption): RemoteCLIP's Algorithm 1, implemented as the paper intends.

Five captions per image:

1. the objects whose box centres lie in the central region: "There are three planes and one ship in
   the middle of the picture.";
2. the other objects: "There is one harbor in the edge of the picture.";
3-5. random subsets: "There are two storage tanks and one bridge in this image."

Decisions where the paper's pseudo-code contradicts itself or is silent (README "B2C rules"; docs/fidelity.md
gathers them with the paper's words):

* **Counts over ten** become "many" or "a lot of" with probability ``many_prob`` (default 0.9: the
  paper's comment says 90%; its code ``random.random() > 0.9`` gives 10%, and as printed drops every
  class whose count is *not* replaced). Counts over ten in detection labels are rarely meant to be
  counted, and RemoteCount only asks about one to ten; the remaining 10% keep exact number words so the
  text encoder still sees them. Otherwise counts are number words ("one" ... "ninety-nine", then digits).
* **Words**: numbers, plurals and the verb come from :mod:`rs_formats.wording`, the wording every rs-clip
  caption and prompt shares ("two buses", "one person", "three people"); only the land-cover rule below is
  B2C's own. Algorithm 1 starts every caption "There are" and writes counts as numbers; we write "There
  is" before a first count of one, and number words.
* **Central region**: the central ``center`` fraction of each axis (default 0.5, i.e. the middle half
  of the width and of the height, a quarter of the area). A centre on the region's edge counts as
  central.
* **Random subsets** (captions 3-5): by default a random non-empty subset of the *classes*, in random
  order, each with its full count, so that every caption stays true of the image. ``subset="objects"``
  samples individual objects instead (closer to the printed pseudo-code, but "There are two planes in
  this image" is then false for an image with five).
* **Nothing in the centre (or nothing at the edge)**: that caption is replaced by one more random-subset
  caption, so every image still has five true captions. "There is nothing in the middle" would be false,
  since labels cover only the source's classes, not everything visible.
* **No objects at all**: :func:`boxes_to_captions` returns ``[]``; the pipeline skips such images and
  counts them in its report (``empty``), unless asked to keep them with a fixed caption.
* **Land cover** (LoveDA, ISPRS): mass nouns are counted as areas ("two water areas", "one low
  vegetation area", "three agricultural areas").
* **Variety**: a random caption that repeats an earlier one is redrawn (up to 8 times), so images with
  several classes get five different captions where possible.
* **Determinism**: the random draws are seeded from sha256 of ``(seed, image_id)``, so the captions of
  an image never depend on worker count or processing order.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rs_formats import wording
from rs_formats.settings import setting

from .types import Box


@dataclass(frozen=True)
class B2CConfig:
    """How boxes become captions; the defaults follow the RemoteCLIP paper (see the module docstring)."""

    seed: int = 0
    n_captions: int = 5
    center: float = setting(0.5, "B2C: fraction of each axis that is 'the middle of the picture'")
    #: Counts strictly above this may be replaced by a word from ``many_words``.
    many_threshold: int = 10
    many_prob: float = setting(0.9, "B2C: probability that a count over ten becomes 'many'/'a lot of'")
    many_words: tuple[str, ...] = ("many", "a lot of")
    subset: Literal["classes", "objects"] = setting(
        "classes", "B2C: captions 3-5 from random subsets of classes (full counts) or objects"
    )

    def __post_init__(self) -> None:
        if not 0 < self.center <= 1:
            raise ValueError(f"center must be in (0, 1], got {self.center}")
        if not 0 <= self.many_prob <= 1:
            raise ValueError(f"many_prob must be in [0, 1], got {self.many_prob}")
        if self.n_captions < 2:
            raise ValueError("n_captions must be at least 2 (middle + edge)")
        if self.subset not in ("classes", "objects"):
            raise ValueError(f"subset must be 'classes' or 'objects', got {self.subset!r}")
        if not self.many_words:
            raise ValueError("many_words must not be empty")


# -- words ------------------------------------------------------------------------------------------


def phrase(label: str) -> str:
    """A class label as caption words: separators to spaces, lower case ("small-vehicle" -> "small vehicle").

    Splitting run-together names ("baseballfield") is the readers' job (their class tables); this only
    makes sure no separator characters reach a caption.
    """
    return re.sub(r"\s+", " ", re.sub(r"[-_]+", " ", label)).strip().lower()


# Land-cover classes of segmentation sources are mass nouns (or, like "barren", adjectives): their
# regions are counted as areas ("two water areas", not "two waters"; "one barren area").
_MASS_NOUNS = {
    "agriculture",
    "vegetation",
    "water",
    "barren",
    "forest",
    "grass",
    "grassland",
    "farmland",
    "soil",
    "sand",
    "snow",
    "ice",
    "clutter",
    "background",
    "cropland",
    "wetland",
    "rangeland",
}
# Where the noun itself before "area" reads wrong, its adjective: "two agricultural areas".
_AREA_ADJECTIVE = {"agriculture": "agricultural"}


def countable(name: str) -> str:
    """The class name as a countable noun phrase ("low vegetation" -> "low vegetation area",
    "agriculture" -> "agricultural area")."""
    head, _, last = name.rpartition(" ")
    if last not in _MASS_NOUNS:
        return name
    word = f"{_AREA_ADJECTIVE.get(last, last)} area"
    return f"{head} {word}" if head else word


def count_phrase(name: str, n: int, rng: random.Random, cfg: B2CConfig) -> str:
    """ "three ships" for a class and its count, replacing large counts as configured."""
    name = countable(name)
    if n > cfg.many_threshold and rng.random() < cfg.many_prob:
        return f"{rng.choice(cfg.many_words)} {wording.noun_for(name, n)}"
    return wording.count_phrase(n, name)


def sentence(counts: Sequence[tuple[str, int]], where: str, rng: random.Random, cfg: B2CConfig) -> str:
    """ "There are three planes and one ship <where>." (the verb agrees with the first item)."""
    words = [count_phrase(name, n, rng, cfg) for name, n in counts]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"There {wording.be(counts[0][1])} {listed} {where}."


# -- the algorithm ----------------------------------------------------------------------------------


def image_rng(seed: int, image_id: str) -> random.Random:
    """A generator that depends only on (seed, image_id): stable across processes and Python runs."""
    digest = hashlib.sha256(f"{seed}\x00{image_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def in_center(box: Box, width: float, height: float, center: float = 0.5) -> bool:
    cx, cy = box.center
    margin_x, margin_y = width * (1 - center) / 2, height * (1 - center) / 2
    return margin_x <= cx <= width - margin_x and margin_y <= cy <= height - margin_y


def _ordered_counts(names: Sequence[str]) -> list[tuple[str, int]]:
    # Most frequent first, then alphabetical: a stable, readable order for captions 1 and 2.
    return sorted(Counter(names).items(), key=lambda kv: (-kv[1], kv[0]))


def _random_subset(names: Sequence[str], rng: random.Random, cfg: B2CConfig) -> list[tuple[str, int]]:
    if cfg.subset == "objects":
        k = rng.randint(1, len(names))
        picked = rng.sample(list(names), k)
        counts = list(Counter(picked).items())
        rng.shuffle(counts)
        return counts
    totals = _ordered_counts(names)
    k = rng.randint(1, len(totals))
    counts = rng.sample(totals, k)
    return counts


_REDRAWS = 8


def boxes_to_captions(
    boxes: Sequence[Box], width: float, height: float, image_id: str, cfg: B2CConfig = B2CConfig()
) -> list[str]:
    """The ``cfg.n_captions`` captions of one image, or ``[]`` when it has no objects."""
    if not boxes:
        return []
    rng = image_rng(cfg.seed, image_id)
    names = [phrase(b.label) for b in boxes]
    middle = [n for n, b in zip(names, boxes) if in_center(b, width, height, cfg.center)]
    edge = [n for n, b in zip(names, boxes) if not in_center(b, width, height, cfg.center)]
    captions: list[str] = []

    def add_random() -> None:
        # Redraw a few times to avoid repeating a caption; images with one class may still repeat.
        for _ in range(_REDRAWS):
            caption = sentence(_random_subset(names, rng, cfg), "in this image", rng, cfg)
            if caption not in captions:
                break
        captions.append(caption)

    for group, where in ((middle, "in the middle of the picture"), (edge, "in the edge of the picture")):
        if group:
            captions.append(sentence(_ordered_counts(group), where, rng, cfg))
        else:
            add_random()
    while len(captions) < cfg.n_captions:
        add_random()
    return captions
