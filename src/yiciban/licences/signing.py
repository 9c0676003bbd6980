"""What a licence's signature covers, and the QR token.

Signature: Ed25519 (RFC 8032) by the issuing department's key ``dept-<uscc>`` (core.keys), or
SM2 with SM3 by the department's SM2 key of the same name (licences.sm2) where the setting
YICIBAN_LICENCE_KEY_ALGORITHMS chooses it for the department — over the canonical JSON of
the licence: keys sorted, no spaces, UTF-8 (the subset of RFC 8785 JCS that strings,
integers and nulls need; the payload holds nothing else).

QR token: a JWS in compact serialisation (RFC 7515) with ``alg: EdDSA`` (RFC 8037), or
``alg: SM2`` (r ‖ s over the signing input, see licences.sm2), signed by the same key,
``kid`` = the key's id. Claims are short so the QR stays small (the verification URL with
its token fits version ≤ 15 at error correction M):
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
import functools
import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from yiciban.core import keys

from . import sm2

KEY_PREFIX = "dept-"
TOKEN_MAX_LENGTH = 1000
ED25519 = "Ed25519"
SM2 = sm2.ALGORITHM
ALGORITHMS = (ED25519, SM2)
JWS_ALG = {ED25519: "EdDSA", SM2: sm2.ALGORITHM}
# How long a process trusts its copy of the published keys; a rotation elsewhere shows after
# at most this long (a rotation keeps the old key, so nothing verifies wrongly meanwhile).
JWKS_CACHE_SECONDS = 5.0


def algorithm_for(department) -> str:
    """The signature algorithm of `department`'s licences: YICIBAN_LICENCE_KEY_ALGORITHMS maps
    a department's USCC (or "*" for every department) to "Ed25519" or "SM2"; Ed25519 when
    neither is listed."""
    chosen = getattr(settings, "YICIBAN_LICENCE_KEY_ALGORITHMS", None) or {}
    algorithm = chosen.get(department.uscc) or chosen.get("*") or ED25519
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown licence signature algorithm {algorithm!r}")
    return algorithm


def _signer(algorithm: str, name: str):
    return sm2.signer_for(name) if algorithm == SM2 else keys.signer_for(name)


def key_name_for(department) -> str:
    return KEY_PREFIX + department.uscc.lower()


def department_signer(department):
    """The current signer of `department`'s licences, creating its key on first use."""
    return _signer(algorithm_for(department), key_name_for(department))


def canonical_json(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


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
    """Set signature, its algorithm, key_name and key_id of `licence` (not saved). A licence
    keeps the algorithm it was first signed with, so a change is signed like the original."""
    department = licence.issuing_department
    algorithm = licence.signature_algorithm if licence.signature else algorithm_for(department)
    signer = _signer(algorithm, key_name_for(department))
    licence.signature = b64url(signer.sign(canonical_json(licence_content(licence))))
    licence.signature_algorithm = algorithm
    licence.key_name = signer.name
    licence.key_id = signer.public_key.key_id
    if signer.public_key.key_id not in published_keys():  # a key created or rotated just now
        forget_published_keys()


def signature_valid(licence) -> bool:
    """Whether the stored signature matches the licence's content, checked with the
    published key `key_id` (current or retired)."""
    try:
        signature = b64url_decode(licence.signature)
    except (ValueError, binascii.Error):
        return False
    jwk = published_key(licence.key_id)
    message = canonical_json(licence_content(licence))
    alg = JWS_ALG[licence.signature_algorithm]
    return jwk is not None and _verify_with_jwk(jwk, alg, signature, message)


def public_base_url() -> str:
    """Where the public verifies licences (the QR points here). One setting for every
    absolute link the platform gives out; without it, the address `make run` serves."""
    return (getattr(settings, "YICIBAN_PUBLIC_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def verification_path(number: str) -> str:
    return f"/licences/verify/{number}"


def token_for(licence) -> str:
    signer = _signer(licence.signature_algorithm, licence.key_name)
    header = {"alg": JWS_ALG[licence.signature_algorithm], "kid": signer.public_key.key_id}
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
    """Every licence-signing public key of the instance, current and retired: Ed25519 as
    RFC 8037 OKP keys, SM2 as EC keys on the curve "SM2" (see licences.sm2)."""
    entries = []
    for name in keys.key_names():
        if name.startswith(KEY_PREFIX):
            entries += [key.jwk() for key in keys.public_keys(name)]
    for name in sm2.key_names():
        if name.startswith(KEY_PREFIX):
            entries += [key.jwk() for key in sm2.public_keys(name)]
    return {"keys": entries}


_published: tuple[float, str, dict] | None = None  # (monotonic time, instance dir, kid → JWK)
_published_lock = threading.Lock()
_last_miss = 0.0


def published_keys(*, max_age: float = JWKS_CACHE_SECONDS) -> dict[str, dict]:
    """{kid: JWK} of jwks(), kept per process for `max_age` seconds so that the public
    verification reads no key files per request."""
    global _published
    now = time.monotonic()
    instance = str(settings.INSTANCE_DIR)
    hit = _published
    if hit is not None and hit[1] == instance and now - hit[0] < max_age:
        return hit[2]
    with _published_lock:
        index = {k["kid"]: k for k in jwks()["keys"]}
        _published = (now, instance, index)
    return index


def published_key(kid: str) -> dict | None:
    """The published key `kid`. A kid this process has not seen yet (a key created or rotated
    by another process a moment ago) forces a re-read — at most once a second, so forged
    tokens naming random kids cannot make every request scan the key folders."""
    global _last_miss
    found = published_keys().get(kid)
    if found is None and time.monotonic() - _last_miss >= 1.0:
        _last_miss = time.monotonic()
        found = published_keys(max_age=0).get(kid)
    return found


def forget_published_keys() -> None:
    """Drop this process's copy of the published keys (after a key is created or rotated)."""
    global _published
    _published = None


# Signatures found valid, per process: a verification is a pure function of (key, algorithm,
# signature, message), so a hit answers exactly what verifying again would. The key is part of
# the cache key by id *and* bytes (a kid never silently maps to other bytes), and only
# successes are kept, so forged tokens cannot fill or flush it; what depends on the day
# (token dates) and on the key still being published is checked outside it on every request.
# Its size is the setting YICIBAN_SIGNATURE_CACHE_SIZE (0 turns it off).
_verified: OrderedDict[tuple, bool] = OrderedDict()
_verified_lock = threading.Lock()


def _verify_with_jwk(jwk: dict, alg: str, signature: bytes, message: bytes) -> bool:
    size = getattr(settings, "YICIBAN_SIGNATURE_CACHE_SIZE", 4096)
    if size <= 0:
        return _verify_uncached(jwk, alg, signature, message)
    cache_key = (
        jwk.get("kid"),
        jwk.get("kty"),
        jwk.get("crv"),
        jwk.get("x"),
        jwk.get("y"),
        alg,
        signature,
        message,
    )
    try:
        with _verified_lock:
            if cache_key in _verified:
                _verified.move_to_end(cache_key)
                return True
    except TypeError:  # a malformed JWK (unhashable member) given to verify_token
        return _verify_uncached(jwk, alg, signature, message)
    if not _verify_uncached(jwk, alg, signature, message):
        return False
    with _verified_lock:
        _verified[cache_key] = True
        while len(_verified) > size:
            _verified.popitem(last=False)
    return True


def forget_verified_signatures() -> None:
    with _verified_lock:
        _verified.clear()


def _verify_uncached(jwk: dict, alg: str, signature: bytes, message: bytes) -> bool:
    try:
        if alg == "EdDSA" and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            _ed25519_key(jwk["x"]).verify(signature, message)
            return True
        if alg == sm2.ALGORITHM and jwk.get("kty") == "EC" and jwk.get("crv") == "SM2":
            x, y = sm2.public_key_from_jwk(jwk)
            return sm2.verify_with(x, y, signature, message)
    except (InvalidSignature, ValueError, binascii.Error, KeyError, TypeError):
        return False
    return False


@functools.lru_cache(maxsize=256)
def _ed25519_key(x: str) -> Ed25519PublicKey:
    """The public key object of a JWK's "x" (loading it is a fifth of a verification)."""
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def verify_token(token: str, jwks_document: dict, *, today: dt.date) -> TokenCheck:
    """Check a QR token offline, with nothing but the published JWKS: the signature by a key
    listed there, and the validity dates against `today`. Revocation needs the online check."""
    index = {k.get("kid"): k for k in jwks_document.get("keys", []) if isinstance(k, dict)}
    return check_token(token, index.get, today=today)


def check_token(token: str, find_key, *, today: dt.date) -> TokenCheck:
    """verify_token with the key looked up by `find_key(kid)` (the server passes its cached
    published_key)."""
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
    alg = header.get("alg")
    if alg not in JWS_ALG.values() or not isinstance(header.get("kid"), str):
        return TokenCheck(False, "malformed", {})
    kid = header["kid"]
    jwk = find_key(kid)
    if jwk is None:
        return TokenCheck(False, "unknown_key", claims, kid)
    if not _verify_with_jwk(jwk, alg, signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
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
