"""Personal data at rest: AES-GCM encryption for values we must show again, and a keyed
blind index (HMAC-SHA256) for exact-match lookups without storing the clear value.

The key is FIELD_ENCRYPTION_KEY (its own secret, not SECRET_KEY, so rotating session
secrets never makes stored data unreadable). Ciphertexts carry a version prefix so the key
can be rotated later."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_VERSION = "v1"


@cache
def _keys(secret: str) -> tuple[bytes, bytes]:
    # Two independent subkeys from one secret: one to encrypt, one for the blind index.
    root = hashlib.sha256(secret.encode()).digest()
    enc = hmac.new(root, b"yiciban/field-encryption", hashlib.sha256).digest()
    idx = hmac.new(root, b"yiciban/blind-index", hashlib.sha256).digest()
    return enc, idx


def encrypt(plaintext: str) -> str:
    enc_key, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    nonce = os.urandom(12)
    sealed = AESGCM(enc_key).encrypt(nonce, plaintext.encode(), None)
    return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    version, _, body = token.partition(":")
    if version != _VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    enc_key, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    raw = base64.urlsafe_b64decode(body)
    return AESGCM(enc_key).decrypt(raw[:12], raw[12:], None).decode()


def blind_index(value: str, *, purpose: str) -> str:
    """Deterministic keyed hash for lookups; `purpose` separates e.g. id numbers from
    phones so equal strings in different fields do not collide."""
    _, idx_key = _keys(settings.FIELD_ENCRYPTION_KEY)
    return hmac.new(idx_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def mask(value: str, *, keep_start: int, keep_end: int) -> str:
    """430621199001011234 → 430621********1234 (keep_start=6, keep_end=4)."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]
