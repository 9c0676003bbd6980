"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), Ed25519.

    <origin>\\n<tree size>\\n<base64 root hash>\\n
    \\n
    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature of the text)>\\n

key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. The key name is the
origin. A verifier key is written ``<name>+<key ID hex>+<base64(0x01 || public key)>``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .merkle import HASH_SIZE

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_SIZE_RE = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class NoteError(ValueError):
    """A note or checkpoint that is malformed or not signed by a known key."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"


def check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise NoteError("a key name must be non-empty, printable, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def sign(text: str, name: str, public_key: bytes, sign_bytes: Callable[[bytes], bytes]) -> str:
    """The signed note of `text` (which ends in a newline) with one Ed25519 signature."""
    check_key_name(name)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = key_id(name, public_key) + sign_bytes(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, name: str, public_keys: Iterable[bytes]) -> str:
    """The text of `note` if a signature by `name` with one of `public_keys` verifies."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note contains control characters")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("note has no signature block")
    text, signatures = note[: cut + 1], note[cut + 2 :]
    candidates = {key_id(name, key): key for key in public_keys}
    verified = False
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("malformed signature line")
        signer_name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise NoteError("signature is not base64") from exc
        if signer_name != name or len(raw) < 5 or raw[:4] not in candidates:
            continue  # someone else's signature (a witness, another key): ignored
        try:
            Ed25519PublicKey.from_public_bytes(candidates[raw[:4]]).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("a signature by a known key does not verify") from exc
        verified = True
    if not verified:
        raise NoteError("no signature by a known key")
    return text


def parse_checkpoint(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint has at least three non-empty lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _SIZE_RE.match(size):
        raise NoteError("tree size is not a decimal number")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("root hash is not base64") from exc
    if len(root_hash) != HASH_SIZE:
        raise NoteError("root hash is not 32 bytes")
    return CheckpointBody(origin=origin, size=int(size), root_hash=root_hash)
