"""The one wording module: irregular remote-sensing nouns, number words, counts (tested here, once)."""

import pytest

from rs_formats import wording


@pytest.mark.parametrize(
    "noun, plural",
    [
        ("aircraft", "aircraft"),
        ("people", "people"),
        ("person", "people"),
        ("bus", "buses"),
        ("church", "churches"),
        ("bench", "benches"),
        ("ferry", "ferries"),
        ("sheep", "sheep"),
        ("storage tank", "storage tanks"),
        ("ground track field", "ground track fields"),
        ("harbor", "harbors"),
        ("cattle", "cattle"),
        ("crossroads", "crossroads"),
        ("barracks", "barracks"),
        ("man", "men"),
        ("overpass", "overpasses"),
        ("beach", "beaches"),
        ("t junction", "t junctions"),
        ("deer", "deer"),
    ],
)
def test_plurals_of_remote_sensing_class_names(noun, plural):
    assert wording.plural(noun) == plural


@pytest.mark.parametrize(
    "noun, n, expected",
    [
        ("people", 1, "person"),
        ("people", 3, "people"),
        ("bus", 1, "bus"),
        ("bus", 3, "buses"),
        ("cattle", 1, "cow"),
        ("small vehicle", 0, "small vehicles"),
    ],
)
def test_noun_for_a_count(noun, n, expected):
    assert wording.noun_for(noun, n) == expected


def test_number_words_and_digits():
    assert [wording.number_word(n) for n in (0, 1, 3, 10, 23, 99)] == [
        "zero",
        "one",
        "three",
        "ten",
        "twenty-three",
        "ninety-nine",
    ]
    assert wording.number_word(100) == "100"
    assert wording.number_text(7, "digits") == "7"
    assert wording.count_phrase(3, "bus") == "three buses"
    assert wording.count_phrase(1, "people", "digits") == "1 person"
    assert wording.be(1) == "is" and wording.be(2) == "are"
    with pytest.raises(ValueError, match="negative"):
        wording.number_word(-1)
    with pytest.raises(ValueError, match="number style"):
        wording.number_text(3, "roman")


def test_parse_number_inverts_number_text():
    for n in range(100):
        assert wording.parse_number(wording.number_text(n, "words")) == n
        assert wording.parse_number(wording.number_text(n, "digits")) == n
    assert wording.parse_number("several") is None


@pytest.mark.parametrize(
    "raw, phrase",
    [
        ("small-vehicle", "small vehicle"),
        ("Ground_Track_Field", "ground track field"),
        ("storageTank", "storage tank"),
        ("AnnualCrop", "annual crop"),
        ("T junction", "t junction"),
        ("  plane ", "plane"),
    ],
)
def test_class_phrase_generic_rules(raw, phrase):
    assert wording.class_phrase(raw) == phrase


def test_class_phrase_source_table_first_and_empty_names_refused():
    table = {"storagetank": "storage tank"}
    assert wording.class_phrase("StorageTank", table) == "storage tank"
    assert wording.class_phrase("baseballfield", table) == "baseballfield"
    with pytest.raises(ValueError, match="empty class name"):
        wording.class_phrase(" _- ")
