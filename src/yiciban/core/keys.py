"""Signing keys of the platform (Ed25519, RFC 8032), kept outside the database.

A key has a short name (``ledger`` for the ledger's checkpoints; departments' licence keys
later, e.g. ``licence-430623-market``). Each name has one current private key that signs,
and any number of retired public keys that still verify what was signed before a rotation.

Where a key lives:
- given by the environment: ``YICIBAN_KEY_<NAME>`` holds the private key as PKCS#8 PEM
  (name upper-cased, ``-`` → ``_``); ``YICIBAN_KEY_<NAME>_RETIRED`` may list retired public
  keys as comma-separated base64 of their 32 raw bytes. Rotation is then done where the
  environment is managed, never here.
- otherwise in the instance folder, generated on first use:
  ``INSTANCE_DIR/keys/<name>/current.pem`` (PKCS#8 PEM, mode 0600) and
  ``INSTANCE_DIR/keys/<name>/retired/<key_id>.pem`` (public keys, SubjectPublicKeyInfo PEM).

Private keys are never written to the database or to logs."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

from . import audit
from .errors import Conflict, NotFound, ValidationFailed

KEY_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ENV_PREFIX = "YICIBAN_KEY_"
CURRENT_FILE = "current.pem"
RETIRED_DIR = "retired"


@dataclass(frozen=True)
class PublicKey:
    """A public key of a named signing key: the current one or a retired one."""

    name: str
    raw: bytes  # 32 bytes, RFC 8032 encoding
    current: bool
    retired_at: dt.datetime | None = None

    @property
    def key_id(self) -> str:
        """Stable short identifier: the first 8 bytes of SHA-256 of the raw key, in hex."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def jwk(self) -> dict:
        """RFC 8037 JSON Web Key (OKP, Ed25519), for publishing in a JWKS."""
        x = base64.urlsafe_b64encode(self.raw).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.key_id, "use": "sig"}


class Signer:
    """Signs with the current private key of one name."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey):
        self.name = name
        self._private_key = private_key
        self.public_key = PublicKey(name=name, raw=_raw_public(private_key), current=True)

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def __repr__(self) -> str:  # never show key material
        return f"<Signer {self.name} {self.public_key.key_id}>"


# name → (source stamp, Signer); the stamp changes when the key file or variable changes, so a
# rotation made by another process is picked up without a restart.
_cache: dict[str, tuple[object, Signer]] = {}
_lock = threading.Lock()


def signer_for(name: str) -> Signer:
    """The signer of `name`, creating the key in the instance folder on first use."""
    _check_name(name)
    pem = os.environ.get(_env_name(name))
    if pem:
        return _cached(name, ("env", pem), lambda: _load_private(pem.encode(), name))
    path = _key_dir(name) / CURRENT_FILE
    if not path.exists():
        _create_key_file(name)
    stat = path.stat()
    return _cached(
        name,
        ("file", str(path), stat.st_mtime_ns, stat.st_ino, stat.st_size),
        lambda: _load_private(path.read_bytes(), name),
    )


def public_keys(name: str) -> list[PublicKey]:
    """Every public key of `name` that verifies: the current one first, then retired ones,
    most recently retired first."""
    current = signer_for(name).public_key
    keys = [current]
    if os.environ.get(_env_name(name)):
        for item in os.environ.get(_env_name(name) + "_RETIRED", "").split(","):
            if item.strip():
                raw = base64.b64decode(item.strip(), validate=True)
                if raw != current.raw:
                    keys.append(PublicKey(name=name, raw=raw, current=False))
        return keys
    retired_dir = _key_dir(name) / RETIRED_DIR
    retired = []
    if retired_dir.is_dir():
        for path in retired_dir.glob("*.pem"):
            public = serialization.load_pem_public_key(path.read_bytes())
            if not isinstance(public, Ed25519PublicKey):
                continue
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if raw != current.raw:
                when = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
                retired.append(PublicKey(name=name, raw=raw, current=False, retired_at=when))
    retired.sort(key=lambda k: k.retired_at or dt.datetime.min.replace(tzinfo=dt.UTC))
    return keys + retired[::-1]


def verify(name: str, message: bytes, signature: bytes) -> PublicKey | None:
    """The key of `name` (current or retired) that made `signature`, or None."""
    for key in public_keys(name):
        if key.verify(signature, message):
            return key
    return None


def key_names() -> list[str]:
    """Names of the keys this instance holds (in its folder or given by the environment)."""
    names = set()
    keys_dir = Path(settings.INSTANCE_DIR) / "keys"
    if keys_dir.is_dir():
        names.update(
            p.name for p in keys_dir.iterdir() if (p / CURRENT_FILE).exists() and _valid(p.name)
        )
    for variable in os.environ:
        if variable.startswith(ENV_PREFIX) and not variable.endswith("_RETIRED"):
            name = variable[len(ENV_PREFIX) :].lower().replace("_", "-")
            if _valid(name):
                names.add(name)
    return sorted(names)


def key_rotate(*, name: str, actor=None) -> Signer:
    """Replace the current private key of `name` by a new one. The old public key is kept
    under retired/ so that signatures made before still verify; the old private key is
    deleted. Refused (409) for keys given by the environment, and (404) for unknown names."""
    _check_name(name)
    if os.environ.get(_env_name(name)):
        raise Conflict(
            f"密钥“{name}”由环境变量 {_env_name(name)} 提供，请在环境中轮换", code="key_from_env"
        )
    key_dir = _key_dir(name)
    current_path = key_dir / CURRENT_FILE
    if not current_path.exists():
        raise NotFound(f"没有名为“{name}”的密钥", code="key_not_found")
    with _lock:
        old = _load_private(current_path.read_bytes(), name)
        old_public = old.public_key
        retired_dir = key_dir / RETIRED_DIR
        retired_dir.mkdir(mode=0o755, exist_ok=True)
        # The old public key is saved before the switch: a crash in between leaves the old
        # key current and its public copy retired, which verifies the same.
        public_pem = Ed25519PublicKey.from_public_bytes(old_public.raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _write_atomic(retired_dir / f"{old_public.key_id}.pem", public_pem, 0o644)
        new_private = Ed25519PrivateKey.generate()
        _write_atomic(current_path, _private_pem(new_private), 0o600)
        _cache.pop(name, None)
    signer = signer_for(name)
    audit.record(
        actor=actor,
        action="core.key_rotate",
        object_type="core.signing_key",
        object_id=name,
        changes={"key_id": [old_public.key_id, signer.public_key.key_id]},
    )
    return signer


# --- internals ------------------------------------------------------------------------------


def _valid(name: str) -> bool:
    return bool(KEY_NAME_RE.match(name))


def _check_name(name: str) -> None:
    if not _valid(name):
        raise ValidationFailed.on_field(
            "name", "key_name", "密钥名称只能由小写字母、数字、“-”和“_”组成，最长64个字符"
        )


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper().replace("-", "_")


def _key_dir(name: str) -> Path:
    return Path(settings.INSTANCE_DIR) / "keys" / name


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _private_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(pem: bytes, name: str) -> Signer:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"key {name!r} is not an Ed25519 private key")
    return Signer(name, private_key)


def _cached(name: str, stamp: object, load) -> Signer:
    with _lock:
        hit = _cache.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        signer = load()
        _cache[name] = (stamp, signer)
        return signer


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write to a temporary file in the same folder, then rename over `path`, so a reader
    never sees half a key."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _create_key_file(name: str) -> None:
    """Generate the first key of `name`. Two processes may race here: the key is written to
    a temporary file and hard-linked into place, which fails if the other one won; the loser
    then uses the winner's key."""
    key_dir = _key_dir(name)
    key_dir.parent.mkdir(mode=0o700, exist_ok=True)
    key_dir.mkdir(mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=key_dir, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_private_pem(Ed25519PrivateKey.generate()))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, key_dir / CURRENT_FILE)
    finally:
        os.unlink(tmp)
