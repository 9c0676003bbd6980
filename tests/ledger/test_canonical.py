import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from yiciban.ledger.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalError,
    _write,
    canonical_bytes,
    canonical_json,
)


def test_rfc8785_sorting_example():
    # RFC 8785 §3.2.3: keys sorted by UTF-16 code units (the emoji's surrogates sort below
    # U+FB33 although its code point is larger).
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc8785_string_escapes():
    # RFC 8785 §3.2.2.2 example string: "€$\u000f\nA'B\"\\\\\"/"
    value = {"string": '€$\x0f\nA\'B"\\\\"/'}
    assert canonical_json(value) == '{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'


def test_whitespace_literals_and_nesting():
    value = {"b": [1, -2, True, False, None, {"z": "", "a": []}], "a": {}}
    assert canonical_json(value) == '{"a":{},"b":[1,-2,true,false,null,{"a":[],"z":""}]}'
    assert canonical_bytes({"名": "张三"}) == '{"名":"张三"}'.encode()


def test_control_characters_use_lowercase_hex_and_short_escapes():
    assert canonical_json("\x1f\x7f\u2028\b\t\f\r") == '"\\u001f\x7f\u2028\\b\\t\\f\\r"'


@pytest.mark.parametrize(
    ("value", "rule", "path"),
    [
        ({"amount": 1.5}, "no_float", "amount"),
        ({"n": MAX_SAFE_INTEGER + 1}, "safe_integer", "n"),
        ({"n": -MAX_SAFE_INTEGER - 1}, "safe_integer", "n"),
        ({"s": "a\x00b"}, "nul", "s"),
        ({"s": "\ud800"}, "unicode", "s"),
        ({1: "x"}, "key_type", ""),
        ({"items": [1, {"x": object()}]}, "type", "items[1].x"),
    ],
)
def test_refuses_values_outside_the_profile(value, rule, path):
    with pytest.raises(CanonicalError) as caught:
        canonical_json(value)
    assert caught.value.rule == rule
    assert caught.value.path == path


def test_refuses_deep_nesting():
    value: list = []
    for _ in range(40):
        value = [value]
    with pytest.raises(CanonicalError) as caught:
        canonical_json(value)
    assert caught.value.rule == "max_depth"


def test_safe_integer_bounds_are_accepted():
    assert (
        canonical_json([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER])
        == "[9007199254740991,-9007199254740991]"
    )


_text = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"))
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_matches_an_independent_rfc8785_implementation(value):
    assert canonical_bytes(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(_values)
def test_round_trips_through_json(value):
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text


@settings(max_examples=300, deadline=None)
@given(_values)
def test_the_fast_path_writes_what_the_careful_writer_writes(value):
    parts: list[str] = []
    _write(value, parts, "", 0)
    assert canonical_json(value) == "".join(parts)
