"""How `loom run` (and a gate's text signal) reads bytes: UTF-8 text, or base64:, hex: or text: prefixed."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskloom.run import parse_text


@dataclasses.dataclass
class Message:
    body: bytes
    topic: str = "none"


@given(st.binary())
def test_any_bytes_given_as_base64_or_hex_come_back(data):
    assert parse_text("base64:" + base64.b64encode(data).decode(), bytes) == data
    assert parse_text("hex:" + data.hex(), bytes) == data


@given(st.text())
def test_any_text_is_its_utf8_bytes_given_plainly_or_after_text(text):
    assert parse_text("text:" + text, bytes) == text.encode("utf-8", "surrogateescape")
    if not text.startswith(("base64:", "hex:", "text:")):
        assert parse_text(text, bytes) == text.encode("utf-8", "surrogateescape")


def test_a_command_line_argument_that_is_not_utf8_gives_back_its_bytes():
    argument = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python hands such an argument over
    assert parse_text(argument, bytes) == b"caf\xe9"


@given(st.lists(st.binary()), st.binary())
def test_bytes_inside_json_are_read_the_same_way(blobs, body):
    given_blobs = json.dumps(["base64:" + base64.b64encode(blob).decode() for blob in blobs])
    assert parse_text(given_blobs, list[bytes]) == blobs
    assert parse_text(json.dumps({"body": "hex:" + body.hex()}), Message) == Message(body)
    assert parse_text(json.dumps({"a": "plain"}), dict[str, bytes]) == {"a": b"plain"}


@pytest.mark.parametrize(
    ("text", "python_type", "message"),
    [
        ("base64:AAE", bytes, "expected base64 after 'base64:', got 'AAE' (Incorrect padding)"),
        ("hex:0g", bytes, "expected hexadecimal digits after 'hex:', got '0g'"),
        ('["ok", "base64:!!"]', list[bytes], "item [1]: expected base64 after 'base64:', got '!!'"),
        ('{"body": 7}', Message, "field 'body': expected a JSON string for bytes, got 7"),
    ],
)
def test_malformed_bytes_say_what_was_expected_what_came_and_where(text, python_type, message):
    with pytest.raises(ValueError) as raised:
        parse_text(text, python_type)
    assert message in str(raised.value)
