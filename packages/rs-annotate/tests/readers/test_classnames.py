import pytest

from rs_annotate.classnames import DIOR, RSOD, normalize


@pytest.mark.parametrize(
    "raw, table, expected",
    [
        ("baseballfield", DIOR, "baseball field"),
        ("golffield", DIOR, "golf field"),
        ("Expressway-toll-station", DIOR, "expressway toll station"),
        ("Expressway-Service-area", DIOR, "expressway service area"),
        ("storagetank", DIOR, "storage tank"),
        ("airplane", DIOR, "airplane"),  # kept as the source says, not merged with DOTA's "plane"
        ("vehicle", DIOR, "vehicle"),
        ("oiltank", RSOD, "oil tank"),
        ("small-vehicle", None, "small vehicle"),
        ("soccer-ball-field", None, "soccer ball field"),
        ("Ground_Track_Field", None, "ground track field"),
        ("T junction", None, "t junction"),
        ("storageTank", None, "storage tank"),
        ("  parking   lot ", None, "parking lot"),
        ("plane", None, "plane"),
    ],
)
def test_normalize(raw, table, expected):
    assert normalize(raw, table) == expected


def test_table_wins_and_matches_case_insensitively():
    assert normalize("GolfField", DIOR) == "golf field"
    assert normalize("GolfField") == "golf field"  # camelCase rule
    assert normalize("golffield") == "golffield"  # no table: glued words cannot be split generically
    assert normalize("Foo", {"foo": "bar baz"}) == "bar baz"


def test_empty_name():
    with pytest.raises(ValueError, match="empty class name"):
        normalize(" - ")
