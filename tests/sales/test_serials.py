"""VIN validation (ISO 3779 / GB 16735): pure functions, no database."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.sales.serials import _VALUES, vin_check_digit, vin_problem

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


@pytest.mark.parametrize(
    "vin",
    [
        "LFV3A28K5L3012345",  # the demo data's VINs
        "LFV3A28K7L3012346",
        "1M8GDM9AXKP042788",  # check digit 'X' (remainder 10)
    ],
)
def test_valid_vins(vin):
    assert vin_problem(vin) is None


def test_check_digit_of_the_demo_vins():
    assert vin_check_digit("LFV3A28K5L3012345") == "5"
    assert vin_check_digit("LFV3A28K7L3012346") == "7"
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


@pytest.mark.parametrize(
    "vin",
    [
        "LFV3A28K6L3012345",  # 9th character off by one
        "LFV3A28K5L3012346",  # last character changed, check digit not
        "LFV3A28K7L3012345",  # the other demo VIN's check digit
        "LFV3A28KZL3012345",  # a letter other than X where the check digit goes: a typo too
    ],
)
def test_wrong_vin_check_digit(vin):
    assert vin_problem(vin) == "bad_vin_check_digit"


@pytest.mark.parametrize(
    "serial",
    [
        "",
        "LFV3A28K5L301234",  # 16 characters
        "LFV3A28K5L30123456",  # 18 characters
        "LFV3A28K5L3O12345",  # letter O
        "LFV3A28K5L3I12345",  # letter I
        "LFV3A28K5L3Q12345",  # letter Q
        "LFV3A28K5L3-12345",
        "LFV3A28K5L3 12345",
        "ＬＦＶ3A28K5L3012345",  # full-width letters: the parser normalises, vin_problem does not
        "LFV3A28K5L3٠12345",  # an Arabic-Indic digit is not a digit here
    ],
)
def test_bad_format(serial):
    assert vin_problem(serial) == "bad_vin"


vins = st.text(alphabet=VIN_ALPHABET, min_size=17, max_size=17).map(
    lambda v: v[:8] + vin_check_digit(v) + v[9:]
)


@settings(max_examples=200, deadline=None)
@given(vins)
def test_a_vin_with_its_check_digit_is_valid(vin):
    assert vin_problem(vin) is None


@settings(max_examples=200, deadline=None)
@given(vins, st.integers(0, 16), st.sampled_from(VIN_ALPHABET))
def test_any_single_typo_that_changes_a_value_is_caught(vin, position, char):
    """11 is prime and no weight is a multiple of it: one changed value always shows."""
    if position == 8 or _VALUES[char] == _VALUES[vin[position]]:
        return
    typo = vin[:position] + char + vin[position + 1 :]
    assert vin_problem(typo) == "bad_vin_check_digit"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_vin_problem_never_raises(text):
    assert vin_problem(text) in (None, "bad_vin", "bad_vin_check_digit")
