"""SM2 signatures with SM3 (国密, GB/T 32918.2-2016 with GB/T 32905-2016), the option a
department may sign its licences with instead of Ed25519.

The arithmetic is Tongsuo's (the OpenAtom Foundation's OpenSSL fork that carries the SM
algorithms), reached through its Python SDK `tongsuopy`. It was adopted after it reproduced
the standard's example on the recommended curve (tests/licences/test_sm2.py with
tests/data/sm2_gbt32918.json) and measured about 0.5 ms to sign or verify (see
docs/benchmarks-licences.md); the pure-Python `gmssl` gave the same answers 30-45 times
slower. The signer's identity in Z_A is the default user ID ``1234567812345678`` of
GB/T 35276-2017 §5.3 (the ID every SM2 certificate profile uses).

Wire format: a signature is r ‖ s, 32 bytes each, big-endian (the JWS convention of
RFC 7518 §3.4, not DER); a public key is published as a JWK ``{"kty": "EC", "crv": "SM2",
"x", "y"}`` — the names the Chinese JOSE profiles use; SM2 has no IANA JOSE registration.

Keys are kept like core.keys keeps Ed25519 keys, in their own folder so neither store reads
the other's files: ``INSTANCE_DIR/sm2-keys/<name>/current.pem`` (PKCS#8 PEM, mode 0600) and
``retired/<key_id>.pem`` (public keys), or the private key in the environment variable
``YICIBAN_SM2_KEY_<NAME>`` (PEM). Private keys are never written to the database or logs."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from django.conf import settings
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

from yiciban.core import audit
from yiciban.core.errors import Conflict, NotFound

ALGORITHM = "SM2"
ENV_PREFIX = "YICIBAN_SM2_KEY_"
COORDINATE = 32  # bytes of x, y, r and s
_ECDSA = ec.ECDSA(hashes.SM3())  # tongsuopy's name for "SM2 signature with SM3"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PublicKey:
    name: str
    x: int
    y: int
    current: bool

    @property
    def raw(self) -> bytes:
        """The uncompressed point 04 ‖ x ‖ y."""
        return b"\x04" + self.x.to_bytes(COORDINATE, "big") + self.y.to_bytes(COORDINATE, "big")

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def jwk(self) -> dict:
        return {
            "kty": "EC",
            "crv": "SM2",
            "x": _b64url(self.x.to_bytes(COORDINATE, "big")),
            "y": _b64url(self.y.to_bytes(COORDINATE, "big")),
            "kid": self.key_id,
            "alg": ALGORITHM,
            "use": "sig",
        }

    def verify(self, signature: bytes, message: bytes) -> bool:
        return verify_with(self.x, self.y, signature, message)


class Signer:
    def __init__(self, name: str, private_key):
        self.name = name
        self._private_key = private_key
        numbers = private_key.public_key().public_numbers()
        self.public_key = PublicKey(name=name, x=numbers.x, y=numbers.y, current=True)

    def sign(self, message: bytes) -> bytes:
        r, s = decode_dss_signature(self._private_key.sign(message, _ECDSA))
        return r.to_bytes(COORDINATE, "big") + s.to_bytes(COORDINATE, "big")

    def __repr__(self) -> str:  # never show key material
        return f"<SM2 Signer {self.name} {self.public_key.key_id}>"


def verify_with(x: int, y: int, signature: bytes, message: bytes) -> bool:
    """Check an r ‖ s signature against the public point (x, y)."""
    if len(signature) != 2 * COORDINATE:
        return False
    r = int.from_bytes(signature[:COORDINATE], "big")
    s = int.from_bytes(signature[COORDINATE:], "big")
    try:
        public = ec.EllipticCurvePublicNumbers(x, y, ec.SM2()).public_key()
        public.verify(encode_dss_signature(r, s), message, _ECDSA)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_from_jwk(jwk: dict) -> tuple[int, int]:
    """(x, y) of an SM2 JWK; ValueError when it is not one."""
    if jwk.get("kty") != "EC" or jwk.get("crv") != "SM2":
        raise ValueError("not an SM2 key")
    coords = []
    for part in ("x", "y"):
        text = jwk[part]
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        if len(raw) != COORDINATE:
            raise ValueError("bad coordinate")
        coords.append(int.from_bytes(raw, "big"))
    return coords[0], coords[1]


# --- the key store ---------------------------------------------------------------------------

_cache: dict[str, tuple[object, Signer]] = {}
_lock = threading.Lock()


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def _key_dir(name: str) -> Path:
    return Path(settings.INSTANCE_DIR) / "sm2-keys" / name


def _pem(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load(pem: bytes, name: str) -> Signer:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SM2
    ):
        raise ValueError(f"key {name!r} is not an SM2 private key")
    return Signer(name, private_key)


def _create(path: Path) -> None:
    """Write a new key unless one exists: O_EXCL decides between two processes racing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(_pem(ec.generate_private_key(ec.SM2())))
        handle.flush()
        os.fsync(handle.fileno())


def signer_for(name: str) -> Signer:
    """The current SM2 signer of `name`, created in the instance folder on first use."""
    pem = os.environ.get(_env_name(name))
    if pem:
        stamp: object = ("env", pem)
        loader = lambda: _load(pem.encode(), name)  # noqa: E731
    else:
        path = _key_dir(name) / "current.pem"
        if not path.exists():
            _create(path)
        stat = path.stat()
        stamp = ("file", stat.st_mtime_ns, stat.st_ino, stat.st_size)
        loader = lambda: _load(path.read_bytes(), name)  # noqa: E731
    with _lock:
        hit = _cache.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        signer = loader()
        _cache[name] = (stamp, signer)
        return signer


def key_names() -> list[str]:
    folder = Path(settings.INSTANCE_DIR) / "sm2-keys"
    names = set()
    if folder.is_dir():
        names.update(p.name for p in folder.iterdir() if (p / "current.pem").exists())
    for variable in os.environ:
        if variable.startswith(ENV_PREFIX):
            names.add(variable[len(ENV_PREFIX) :].lower().replace("_", "-"))
    return sorted(names)


def public_keys(name: str) -> list[PublicKey]:
    """The current public key of `name`, then the retired ones that still verify."""
    current = signer_for(name).public_key
    found = [current]
    retired_dir = _key_dir(name) / "retired"
    if retired_dir.is_dir():
        for path in sorted(retired_dir.glob("*.pem"), key=lambda p: -p.stat().st_mtime):
            public = serialization.load_pem_public_key(path.read_bytes())
            numbers = public.public_numbers()
            if (numbers.x, numbers.y) != (current.x, current.y):
                found.append(PublicKey(name=name, x=numbers.x, y=numbers.y, current=False))
    return found


def verify(name: str, message: bytes, signature: bytes) -> PublicKey | None:
    for key in public_keys(name):
        if key.verify(signature, message):
            return key
    return None


def key_rotate(*, name: str, actor=None) -> Signer:
    """A new current SM2 key for `name`; the old public key stays under retired/ so earlier
    signatures still verify, the old private key is gone. 409 for keys from the environment,
    404 for unknown names."""
    if os.environ.get(_env_name(name)):
        raise Conflict(
            f"密钥“{name}”由环境变量 {_env_name(name)} 提供，请在环境中轮换", code="key_from_env"
        )
    path = _key_dir(name) / "current.pem"
    if not path.exists():
        raise NotFound(f"没有名为“{name}”的密钥", code="key_not_found")
    with _lock:
        old = _load(path.read_bytes(), name)
        retired = _key_dir(name) / "retired"
        retired.mkdir(mode=0o755, exist_ok=True)
        public_pem = old._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (retired / f"{old.public_key.key_id}.pem").write_bytes(public_pem)
        tmp = path.with_name(".current.tmp")
        tmp.unlink(missing_ok=True)
        _create(tmp)
        os.replace(tmp, path)
        _cache.pop(name, None)
    signer = signer_for(name)
    audit.record(
        actor=actor,
        action="licences.sm2_key_rotate",
        object_type="core.signing_key",
        object_id=f"sm2:{name}",
        changes={"key_id": [old.public_key.key_id, signer.public_key.key_id]},
    )
    return signer
