import pytest

from storage.errors import ANumberError, NationalityError
from storage.identifiers import (
    format_a_number,
    nationalities,
    parse_a_number,
    parse_nationality,
    redact_a_number,
)


@pytest.mark.parametrize(
    "text",
    [
        "A-012-345-678",
        "A012345678",
        "012345678",
        " A 012 345 678 ",
        "a012345678",
        "12345678",
        "A-12-345-678",
        12345678,
        "A-012.345.678",
    ],
)
def test_a_number_spellings_normalize_to_nine_digits(text: object) -> None:
    assert parse_a_number(text) == "012345678"


def test_newer_two_hundred_range_is_kept() -> None:
    assert parse_a_number("A-211-000-123") == "211000123"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "missing"),
        ("A", "no digits"),
        ("1234567", "8 or 9 digits, found 7"),
        ("0123456789", "8 or 9 digits, found 10"),
        ("A-0I2-345-678", "only digits, found 'I'"),
        ("B012345678", "only digits, found 'B'"),
        ("000000000", "all zeros"),
        ("０１２３４５６７８", "only digits"),  # full-width digits are not ASCII
        (12.5, "must be text"),
    ],
)
def test_bad_a_numbers_are_refused_with_reason(text: object, reason: str) -> None:
    with pytest.raises(ANumberError, match=reason):
        parse_a_number(text)


def test_format_and_redact() -> None:
    assert format_a_number("012345678") == "A-012-345-678"
    assert redact_a_number("012345678") == "***5678"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("HO", "HO"),
        ("ho", "HO"),
        ("Honduras", "HO"),
        ("  honduras ", "HO"),
        ("EL SALVADOR", "ES"),
        ("el salvador", "ES"),
        ("CHINA", "CH"),
        ("MEXICO (MX)", "MX"),
        ("Guinea-Bissau", "PU"),
        ("guinea bissau", "PU"),
    ],
)
def test_nationality_by_code_or_name(text: str, code: str) -> None:
    assert parse_nationality(text) == code


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        ("ATLANTIS", "unknown nationality"),
        ("HN", "ISO code; EOIR's code for HONDURAS is HO"),
        ("XX", "not active"),
        ("GC", "not active"),
        ("QQ", "unknown"),
    ],
)
def test_bad_nationalities_are_refused_with_reason(text: str, reason: str) -> None:
    with pytest.raises(NationalityError, match=reason):
        parse_nationality(text)


def test_bundled_list_is_acis_list() -> None:
    table = nationalities()
    assert "??" not in table
    assert table["MX"].name == "MEXICO" and table["MX"].active
    assert sum(n.active for n in table.values()) > 190
