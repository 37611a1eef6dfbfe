import pytest

from sizebot.units import format_delta, format_percent, format_size, parse_size, parse_size_or_percent


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1234", 1234), (1234, 1234), ("25 MB", 25_000_000), ("25MB", 25_000_000), ("50 KB", 50_000),
        ("2 MiB", 2 * 1024 * 1024), ("1.5 KiB", 1536), ("0", 0), ("3 GB", 3_000_000_000), ("12 b", 12),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["big", "-5", "5 XB", "", "1,000", True])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_parse_size_or_percent():
    assert parse_size_or_percent("1%") == ("percent", 1.0)
    assert parse_size_or_percent("0.5 %") == ("percent", 0.5)
    assert parse_size_or_percent("50 KB") == ("bytes", 50_000.0)
    with pytest.raises(ValueError):
        parse_size_or_percent("x%")


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"), (999, "999 B"), (1000, "1.00 KB"), (1234, "1.23 KB"), (12_345, "12.3 KB"),
        (123_456, "123 KB"), (999_499, "999 KB"), (999_500, "1.00 MB"), (6_012_345, "6.01 MB"), (-1234, "-1.23 KB"),
    ],
)
def test_format_size(n, text):
    assert format_size(n) == text


def test_format_delta_and_percent():
    assert format_delta(412_000) == "+412 KB"
    assert format_delta(-1200) == "-1.20 KB"
    assert format_delta(0) == "0 B"
    assert format_percent(18, 100) == "+18.00%"
    assert format_percent(-1, 400) == "-0.25%"
    assert format_percent(5, 0) == "new"
    assert format_percent(0, 0) == "0.00%"
