"""Resident ID numbers (GB 11643): shape, birth date, check digit, what they tell, masking."""

from datetime import date

import pytest

from app.services.errors import InvalidInput
from app.services.idcard import check_digit, parse_id_number

TODAY = date(2024, 6, 15)


def valid(first17: str) -> str:
    """A well-formed ID number: the 17 digits given plus their check character."""
    return first17 + check_digit(first17)


def refused(raw: str, today: date = TODAY) -> InvalidInput:
    with pytest.raises(InvalidInput) as error:
        parse_id_number(raw, today)
    assert error.value.code == "invalid_id_number"
    assert error.value.field == "id_number"
    return error.value


def test_check_digit_of_the_published_examples():
    # GB 11643 examples: the check character can be a digit or X.
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"
    # Weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, mod 11 → "10X98765432".
    assert check_digit("00000000000000000") == "1"
    assert check_digit("10000000000000000") == "5"  # 7 % 11 = 7 → "5"


def test_parse_a_valid_number():
    parsed = parse_id_number(valid("11010519800101001"), TODAY)
    assert parsed.value == "110105198001010016"
    assert parsed.region == "110105"
    assert parsed.birth_date == date(1980, 1, 1)
    assert parsed.male is True  # 17th digit 1: odd is male


def test_parse_derives_female_from_an_even_17th_digit():
    parsed = parse_id_number(valid("32010219991231002"), TODAY)
    assert parsed.male is False
    assert parsed.birth_date == date(1999, 12, 31)
    assert parsed.region == "320102"


def test_x_check_digit_accepted_in_either_case_and_stored_upper_case():
    assert parse_id_number("11010519491231002X", TODAY).value == "11010519491231002X"
    lower = parse_id_number("11010519491231002x", TODAY)
    assert lower.value == "11010519491231002X"
    assert lower.male is False
    assert lower.birth_date == date(1949, 12, 31)


def test_spaces_are_dropped():
    number = valid("11010519800101001")
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}"
    assert parse_id_number(spaced, TODAY).value == number


@pytest.mark.parametrize("position", [0, 3, 14, 15, 16])
def test_one_wrong_digit_fails_the_checksum(position):
    number = valid("11010519800101001")
    wrong = number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]
    error = refused(wrong)
    assert "check digit" in str(error.message)


def test_wrong_check_character_refused():
    number = valid("11010519800101001")  # ends in 6
    for other in "0123457X":
        refused(number[:17] + other)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        None,
        "11010519800101001",  # 17
        "1101051980010100166",  # 19
        "110105800101001",  # the old 15-digit numbers are not accepted
        "11010519800101001A",
        "X10105198001010016",
        "1101051980O1010016",  # letter O for zero
        "11010519800101001-",
        "110105198001010016\n",
    ],
)
def test_malformed_numbers_refused(raw):
    error = refused(raw)
    assert "18 characters" in str(error.message)


@pytest.mark.parametrize(
    "birth",
    [
        "19800230",  # 30 February
        "19810229",  # 29 February in a common year
        "19801301",  # month 13
        "19800001",  # month 0
        "19800100",  # day 0
        "19800431",  # 31 April
    ],
)
def test_impossible_birth_dates_refused(birth):
    error = refused(valid(f"110105{birth}001"))
    assert "birth date" in str(error.message)


def test_leap_day_birth_date_accepted():
    assert parse_id_number(valid("11010519800229001"), TODAY).birth_date == date(1980, 2, 29)


def test_birth_date_in_the_future_refused_relative_to_today():
    tomorrow = valid("11010520240616001")
    refused(tomorrow, today=date(2024, 6, 15))
    # born today is possible, and the same number is fine a day later
    assert parse_id_number(tomorrow, date(2024, 6, 16)).birth_date == date(2024, 6, 16)


def test_birth_year_before_1900_refused():
    refused(valid("11010518991231001"))
    assert parse_id_number(valid("11010519000101001"), TODAY).birth_date == date(1900, 1, 1)


def test_masked_keeps_region_and_last_four_only():
    number = valid("11010519800101123")
    parsed = parse_id_number(number, TODAY)
    assert parsed.masked == "110105********" + number[-4:]
    assert len(parsed.masked) == 18
    assert "19800101" not in parsed.masked


def test_full_width_digits_are_refused_or_normalised():
    ascii_number = "11010519491231002X"
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in ascii_number)
    try:
        parsed = parse_id_number(full_width, TODAY)
    except InvalidInput:
        return
    assert parsed.value == ascii_number
