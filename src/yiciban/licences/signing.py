"""What a licence's signature covers, and the QR token.

Signature: Ed25519 (RFC 8032) by the issuing department's key ``dept-<uscc>`` (core.keys)
over the canonical JSON of the licence — keys sorted, no spaces, UTF-8 (the subset of
RFC 8785 JCS that strings, integers and nulls need; the payload holds nothing else).

QR token: a JWS in compact serialisation (RFC 7515) with ``alg: EdDSA`` (RFC 8037), signed
by the same key, ``kid`` = core.keys key id. Claims are short so the QR stays small (the
verification URL with its token fits version ≤ 15 at error correction M):
    iss  the platform's public base URL (the verification page is iss + /licences/verify/no)
    no   licence number            typ  licence type code
    sub  holder identifier (USCC, or masked resident ID)
    ver  licence version
    nbf  valid from (YYYY-MM-DD)   exp  valid until (YYYY-MM-DD, or null for 长期)
The issuing department is the owner of the key ``kid`` (one key name per department), so it
is not repeated; the token has no issue time because it lives exactly as long as the
licence version it names.
Dates are calendar dates in China, kept as strings: a verifier compares them with its own
local date. A token is verified offline against the JWKS at /.well-known/jwks.json; whether
the licence was revoked since can only be learnt online."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from yiciban.core import keys

KEY_PREFIX = "dept-"
TOKEN_MAX_LENGTH = 1000


def key_name_for(department) -> str:
    return KEY_PREFIX + department.uscc.lower()


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in _B64URL for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def licence_content(licence) -> dict:
    """Everything the signature vouches for."""
    return {
        "v": 1,
        "no": licence.number,
        "type": licence.licence_type.code,
        "type_name": licence.licence_type.name,
        "holder_kind": licence.holder_kind,
        "holder_name": licence.holder_name,
        "holder_id": licence.holder_identifier,
        "department": licence.issuing_department.uscc,
        "department_name": licence.issuing_department.name,
        "issued_on": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "fields": {str(k): str(v) for k, v in (licence.fields or {}).items()},
        "version": licence.version,
    }


def sign_licence(licence) -> None:
    """Set signature, key_name and key_id of `licence` (not saved)."""
    signer = keys.signer_for(key_name_for(licence.issuing_department))
    licence.signature = b64url(signer.sign(canonical_json(licence_content(licence))))
    licence.key_name = signer.name
    licence.key_id = signer.public_key.key_id


def signature_valid(licence) -> bool:
    try:
        signature = b64url_decode(licence.signature)
    except (ValueError, binascii.Error):
        return False
    found = keys.verify(licence.key_name, canonical_json(licence_content(licence)), signature)
    return found is not None and found.key_id == licence.key_id


def public_base_url() -> str:
    """Where the public verifies licences (the QR points here). One setting for every
    absolute link the platform gives out; without it, the address `make run` serves."""
    return (getattr(settings, "YICIBAN_PUBLIC_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def verification_path(number: str) -> str:
    return f"/licences/verify/{number}"


def token_for(licence) -> str:
    signer = keys.signer_for(licence.key_name)
    header = {"alg": "EdDSA", "kid": signer.public_key.key_id}
    claims = {
        "iss": public_base_url(),
        "no": licence.number,
        "typ": licence.licence_type.code,
        "sub": licence.holder_identifier,
        "ver": licence.version,
        "nbf": licence.valid_from.isoformat(),
        "exp": licence.valid_until.isoformat() if licence.valid_until else None,
    }
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(claims))}"
    return f"{signing_input}.{b64url(signer.sign(signing_input.encode('ascii')))}"


def qr_url(licence, token: str) -> str:
    return f"{public_base_url()}{verification_path(licence.number)}?t={token}"


@dataclass(frozen=True)
class TokenCheck:
    ok: bool
    reason: (
        str  # "" when ok; else malformed / unknown_key / bad_signature / not_yet_valid / expired
    )
    claims: dict
    kid: str = ""


def jwks() -> dict:
    """Every licence-signing public key of the instance, current and retired (RFC 7517/8037)."""
    entries = []
    for name in keys.key_names():
        if name.startswith(KEY_PREFIX):
            entries += [key.jwk() for key in keys.public_keys(name)]
    return {"keys": entries}


def verify_token(token: str, jwks_document: dict, *, today: dt.date) -> TokenCheck:
    """Check a QR token offline, with nothing but the published JWKS: the signature by a key
    listed there, and the validity dates against `today`. Revocation needs the online check."""
    parts = (token or "").split(".")
    if len(token or "") > TOKEN_MAX_LENGTH or len(parts) != 3:
        return TokenCheck(False, "malformed", {})
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return TokenCheck(False, "malformed", {})
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return TokenCheck(False, "malformed", {})
    if header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        return TokenCheck(False, "malformed", {})
    kid = header["kid"]
    jwk = next(
        (
            k
            for k in jwks_document.get("keys", [])
            if k.get("kid") == kid and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"
        ),
        None,
    )
    if jwk is None:
        return TokenCheck(False, "unknown_key", claims, kid)
    try:
        public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        public.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, ValueError, binascii.Error, KeyError):
        return TokenCheck(False, "bad_signature", claims, kid)
    try:
        not_before = dt.date.fromisoformat(claims["nbf"])
        until = dt.date.fromisoformat(claims["exp"]) if claims.get("exp") else None
        if not isinstance(claims["no"], str):
            raise ValueError("no")
    except (KeyError, TypeError, ValueError):
        return TokenCheck(False, "malformed", claims, kid)
    if today < not_before:
        return TokenCheck(False, "not_yet_valid", claims, kid)
    if until is not None and today > until:
        return TokenCheck(False, "expired", claims, kid)
    return TokenCheck(True, "", claims, kid)
