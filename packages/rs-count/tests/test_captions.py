import pytest

from rs_count.captions import DEFAULT, CaptionTemplate, number_text
from rs_count.classes import REMOTECOUNT_CLASSES, normalize_class


def test_singular_and_plural_in_words_and_digits():
    assert DEFAULT.caption("plane", 1) == "There is one plane in the image."
    assert DEFAULT.caption("plane", 3, "digits") == "There are 3 planes in the image."
    assert DEFAULT.caption("tennis court", 3) == "There are three tennis courts in the image."
    assert DEFAULT.caption("storage tank", 1, "digits") == "There is 1 storage tank in the image."
    assert DEFAULT.caption("harbor", 10) == "There are ten harbors in the image."


def test_ten_candidates_differ_only_in_the_number():
    words = DEFAULT.candidates("ship")
    digits = DEFAULT.candidates("ship", "digits")
    assert len(words) == len(set(words)) == 10 and len(digits) == 10
    assert words[0] == "There is one ship in the image." and words[9] == "There are ten ships in the image."
    assert digits[4] == "There are 5 ships in the image."


def test_custom_template_and_irregular_plural():
    t = CaptionTemplate("{number} {noun}.", plurals={"harbor": "harbours"})
    assert t.caption("harbor", 2) == "Two harbours."
    assert t.caption("harbor", 1, "digits") == "1 harbor."
    assert t.parse("Two harbours", REMOTECOUNT_CLASSES) == ("harbor", 2)


@pytest.mark.parametrize("text,expected", [
    ("There are three tennis courts in the image.", ("tennis court", 3)),
    ("there is 1 storage tank in the image", ("storage tank", 1)),
    ("There are 10 ground track fields in the image.", ("ground track field", 10)),
    ("There are three cats in the image.", None),
    ("Three planes are parked.", None),
])
def test_parse(text, expected):
    assert DEFAULT.parse(text, REMOTECOUNT_CLASSES) == expected


@pytest.mark.parametrize("bad", ["{count} {noun}", "There are {number} things", "{number} {noun} {"])
def test_bad_templates(bad):
    with pytest.raises(ValueError, match="template"):
        CaptionTemplate(bad)


def test_numbers_out_of_range():
    with pytest.raises(ValueError, match="1 to 10"):
        number_text(11)
    with pytest.raises(ValueError, match="variant"):
        number_text(2, "roman")


def test_dota_names_map_to_natural_names():
    assert normalize_class("baseball-diamond") == "baseball diamond"
    assert normalize_class("soccer-ball-field") == "soccer field"
    assert normalize_class("Ground_Track_Field") == "ground track field"
    assert len(REMOTECOUNT_CLASSES) == 13
