import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiciban.ledger import note

ORIGIN = "example.gov.cn/ledger"


def _key():
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return private, public


def _checkpoint(size=7, root=b"\x11" * 32):
    return note.CheckpointBody(origin=ORIGIN, size=size, root_hash=root).text()


def test_key_id_follows_the_signed_note_spec():
    _, public = _key()
    expected = hashlib.sha256(ORIGIN.encode() + b"\x0a\x01" + public).digest()[:4]
    assert note.key_id(ORIGIN, public) == expected
    vkey = note.verifier_key(ORIGIN, public)
    name, key_hash, encoded = vkey.split("+", 2)  # base64 may hold "+"
    assert name == ORIGIN
    assert key_hash == expected.hex()
    assert base64.b64decode(encoded) == b"\x01" + public


def test_signed_checkpoint_layout_and_round_trip():
    private, public = _key()
    text = _checkpoint()
    signed = note.sign(text, ORIGIN, public, private.sign)
    body, signature_line = signed.split("\n\n")
    assert body + "\n" == text
    root_b64 = base64.b64encode(bytes([0x11]) * 32).decode()
    assert text == f"{ORIGIN}\n7\n{root_b64}\n"
    assert signature_line.startswith(f"\u2014 {ORIGIN} ")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == note.key_id(ORIGIN, public)
    assert len(raw) == 68
    assert note.open_note(signed, ORIGIN, [public]) == text
    parsed = note.parse_checkpoint(text)
    assert (parsed.origin, parsed.size, parsed.root_hash) == (ORIGIN, 7, b"\x11" * 32)


def test_tampered_text_or_wrong_key_is_rejected():
    private, public = _key()
    signed = note.sign(_checkpoint(), ORIGIN, public, private.sign)
    with pytest.raises(note.NoteError):
        note.open_note(signed.replace("\n7\n", "\n8\n"), ORIGIN, [public])
    _, other = _key()
    with pytest.raises(note.NoteError):
        note.open_note(signed, ORIGIN, [other])
    with pytest.raises(note.NoteError):
        note.open_note(signed, "another.example/log", [public])


def test_unknown_signatures_are_ignored_and_known_bad_ones_rejected():
    private, public = _key()
    witness_private, witness_public = _key()
    signed = note.sign(_checkpoint(), ORIGIN, public, private.sign)
    cosigned = (
        signed
        + note.sign(
            _checkpoint(), "witness.example/w1", witness_public, witness_private.sign
        ).split("\n\n")[1]
    )
    assert note.open_note(cosigned, ORIGIN, [public]) == _checkpoint()
    # A signature line that names our key and key ID but does not verify spoils the note.
    forged = signed.rstrip("\n") + "\n" + signed.split("\n\n")[1][:-10] + "AAAAAAAA=\n"
    with pytest.raises(note.NoteError):
        note.open_note(forged, ORIGIN, [public])


@pytest.mark.parametrize(
    "text",
    [
        "origin\n7\n",  # no root
        "origin\n07\nEREREREREREREREREREREREREREREREREREREREREREE=\n",  # leading zero
        "origin\n7\nnot base64!\n",
        "origin\n7\nAAAA\n",  # 3 bytes
        "origin\n7\nEREREREREREREREREREREREREREREREREREREREREREE=",  # no final newline
        "\n7\nEREREREREREREREREREREREREREREREREREREREREREE=\n",  # empty origin
    ],
)
def test_malformed_checkpoints_are_rejected(text):
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(text)


def test_notes_without_signatures_or_with_control_characters_are_rejected():
    _, public = _key()
    with pytest.raises(note.NoteError):
        note.open_note(_checkpoint(), ORIGIN, [public])
    with pytest.raises(note.NoteError):
        note.open_note(_checkpoint() + "\n\u2014 x\tAAAA\n", ORIGIN, [public])


@pytest.mark.parametrize("name", ["", "has space", "has+plus"])
def test_bad_key_names_are_refused(name):
    private, public = _key()
    with pytest.raises(note.NoteError):
        note.sign(_checkpoint(), name, public, private.sign)
