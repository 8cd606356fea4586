import pytest

from rs_count.captions import DEFAULT, CaptionTemplate, number_text
from rs_count.classes import REMOTECOUNT_CLASSES, class_name


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


def test_custom_template_and_wording_of_any_class():
    # Plurals and number words are rs_formats.wording's: no "three buss", "persons" or "sheeps".
    t = CaptionTemplate("{number} {noun}.")
    assert t.caption("harbor", 2) == "Two harbors."
    assert t.caption("harbor", 1, "digits") == "1 harbor."
    assert DEFAULT.caption("bus", 3) == "There are three buses in the image."
    assert DEFAULT.caption("people", 1) == "There is one person in the image."
    assert DEFAULT.caption("people", 2) == "There are two people in the image."
    assert DEFAULT.caption("person", 7, "digits") == "There are 7 people in the image."
    assert [DEFAULT.caption(c, 2) for c in ("church", "bench", "ferry", "sheep", "aircraft")] == [
        f"There are two {p} in the image." for p in ("churches", "benches", "ferries", "sheep", "aircraft")
    ]
    assert t.parse("Two buses", ["bus"]) == ("bus", 2)
    assert DEFAULT.parse("There is one person in the image.", ["people"]) == ("people", 1)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("There are three tennis courts in the image.", ("tennis court", 3)),
        ("there is 1 storage tank in the image", ("storage tank", 1)),
        ("There are 10 ground track fields in the image.", ("ground track field", 10)),
        ("There are three cats in the image.", None),
        ("Three planes are parked.", None),
    ],
)
def test_parse(text, expected):
    assert DEFAULT.parse(text, REMOTECOUNT_CLASSES) == expected


@pytest.mark.parametrize("bad", ["{count} {noun}", "There are {number} things", "{number} {noun} {"])
def test_bad_templates(bad):
    with pytest.raises(ValueError, match="template"):
        CaptionTemplate(bad)


def test_numbers_out_of_range():
    with pytest.raises(ValueError, match="1 to 10"):
        number_text(11)
    with pytest.raises(ValueError, match="number style"):
        number_text(2, "roman")


def test_dota_names_map_to_natural_names():
    assert class_name("baseball-diamond") == "baseball diamond"
    assert class_name("soccer-ball-field") == "soccer field"
    assert class_name("Soccer_Ball_Field") == "soccer field"
    assert class_name("Ground_Track_Field") == "ground track field"
    assert class_name("storageTank") == "storage tank"
    assert len(REMOTECOUNT_CLASSES) == 13
