"""B2C captions of land-cover sources (LoveDA, ISPRS Potsdam) are grammatical end to end through convert."""

import re

import pytest

from rs_annotate import convert
from rs_annotate.b2c import countable
from rs_formats import open_dataset
from rs_formats.wording import number_word, plural
from rs_synth.registry import FORMATS

CAPTION = re.compile(
    r"There (is|are) (.+) (in the middle of the picture|in the edge of the picture|in this image)\."
)
COUNTS = {number_word(k) for k in range(2, 100)} | {"many", "a lot of"}
NOUNS = {
    "loveda": {"building", "road", "water area", "barren area", "forest area", "agricultural area"},
    "potsdam": {"impervious surface", "building", "low vegetation area", "tree", "car"},
}


def test_land_cover_phrases():
    assert (
        countable("agriculture") == "agricultural area"
        and plural(countable("agriculture")) == "agricultural areas"
    )
    assert countable("low vegetation") == "low vegetation area" and countable("barren") == "barren area"
    assert plural(countable("impervious surface")) == "impervious surfaces"
    assert countable("tree") == "tree" and plural("tree") == "trees"


def check_caption(caption: str, nouns: set[str]) -> list[str]:
    """The nouns of one caption, asserting count/noun/verb agreement and that every noun is a known phrase."""
    m = CAPTION.fullmatch(caption)
    assert m, caption
    verb, listed, _ = m.groups()
    seen = []
    for k, item in enumerate(re.split(r", | and ", listed)):
        count, _, noun = item.partition(" ")
        if count == "a":  # "a lot of <plural>"
            count, noun = "a lot of", item.removeprefix("a lot of ")
        if count == "one":
            assert noun in nouns, (noun, caption)
        else:
            assert count in COUNTS and noun in {plural(n) for n in nouns}, (item, caption)
        if k == 0:
            assert verb == ("is" if count == "one" else "are"), caption
        seen.append(noun)
    return seen


@pytest.mark.parametrize("fmt", ["loveda", "potsdam"])
def test_synthetic_land_cover_captions_are_grammatical(tmp_path, fmt):
    FORMATS[fmt].write(tmp_path / "src", 8, seed=0, size=256)
    convert(fmt, tmp_path / "src", tmp_path / "out", workers=1, progress=False)
    ds = open_dataset(tmp_path / "out")
    captions = [
        c
        for s in ds.splits
        for r in ds.read_table(s, columns=["captions"]).to_pylist()
        for c in r["captions"]
    ]
    assert len(captions) == 40
    seen = {n for c in captions for n in check_caption(c, NOUNS[fmt])}
    singular_seen = {n for n in NOUNS[fmt] if n in seen or plural(n) in seen}
    # the generated scenes show (nearly) every class: the check above covered their phrases
    assert len(singular_seen) >= len(NOUNS[fmt]) - 1, singular_seen
    if fmt == "loveda":
        assert "agricultural area" in singular_seen
