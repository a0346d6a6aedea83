import pytest

from sms_gateway.segments import count, fit


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("{" * 80, "GSM-7", 1),  # extension characters cost two septets
        ("€" * 81, "GSM-7", 2),
        ("é" * 160, "GSM-7", 1),  # in the GSM basic set
        ("销" * 70, "UCS-2", 1),
        ("销" * 71, "UCS-2", 2),
        ("销" * 134, "UCS-2", 2),
        ("销" * 135, "UCS-2", 3),
        ("a" * 69 + "ş", "UCS-2", 1),  # one non-GSM character switches the whole text
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_count(text, encoding, segments):
    result = count(text)

    assert (result.encoding, result.segments) == (encoding, segments)


def test_fit_leaves_a_short_text_alone():
    assert fit("S1004: 1 CS75 recorded.") == "S1004: 1 CS75 recorded."


def test_fit_cuts_gsm_text_to_two_segments_with_dots():
    fitted = fit("word " * 100)

    assert count(fitted).segments == 2
    assert fitted.endswith("...") and count(fitted).encoding == "GSM-7"
    assert len(fitted) <= 306


def test_fit_counts_extension_characters_double():
    fitted = fit("[" * 200)

    assert count(fitted).units <= 306 and count(fitted).segments == 2
    assert fitted == "[" * 151 + "..."


def test_fit_cuts_chinese_to_134_units_with_an_ellipsis():
    fitted = fit("销售记录" * 50)

    assert fitted.endswith("…") and len(fitted) == 134
    assert count(fitted).segments == 2


def test_fit_never_splits_an_emoji():
    fitted = fit("😀" * 100)

    assert fitted == "😀" * 66 + "…"
    assert count(fitted).units == 133


def test_fit_to_one_segment():
    assert count(fit("销" * 100, max_segments=1)).segments == 1
    assert len(fit("a" * 200, max_segments=1)) == 160
