import base64
import os
import stat
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiciban.core import keys
from yiciban.core.errors import Conflict, NotFound, ValidationFailed
from yiciban.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _instance(settings, tmp_path, monkeypatch):
    settings.INSTANCE_DIR = tmp_path
    for variable in list(os.environ):
        if variable.startswith(keys.ENV_PREFIX):
            monkeypatch.delenv(variable)


def _pem(private: Ed25519PrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_first_use_creates_a_private_key_file_readable_only_by_the_owner(tmp_path):
    signer = keys.signer_for("ledger")
    path = tmp_path / "keys" / "ledger" / "current.pem"
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    signature = signer.sign(b"message")
    assert signer.public_key.verify(signature, b"message")
    assert not signer.public_key.verify(signature, b"other message")
    assert keys.signer_for("ledger").public_key == signer.public_key
    assert "PRIVATE" not in repr(signer)


def test_names_are_checked():
    for name in ["", "Ledger", "../etc", "a" * 65, "licence/1"]:
        with pytest.raises(ValidationFailed) as caught:
            keys.signer_for(name)
        assert caught.value.errors[0].rule == "key_name"


@pytest.mark.django_db
def test_rotation_keeps_old_public_keys_for_verification(tmp_path):
    old = keys.signer_for("licence-430623-market")
    old_signature = old.sign(b"licence 1")
    new = keys.key_rotate(name="licence-430623-market")
    assert new.public_key.raw != old.public_key.raw
    assert keys.signer_for("licence-430623-market").public_key == new.public_key
    listed = keys.public_keys("licence-430623-market")
    assert [k.current for k in listed] == [True, False]
    assert listed[0].raw == new.public_key.raw
    assert listed[1].raw == old.public_key.raw
    assert listed[1].retired_at is not None
    assert (
        keys.verify("licence-430623-market", b"licence 1", old_signature).raw == old.public_key.raw
    )
    assert keys.verify("licence-430623-market", b"licence 2", old_signature) is None
    # The old private key is gone: only public keys remain besides the current one.
    pem_files = sorted(p.name for p in (tmp_path / "keys").rglob("*.pem"))
    assert pem_files == sorted(["current.pem", f"{old.public_key.key_id}.pem"])
    event = AuditEvent.objects.get(action="core.key_rotate")
    assert event.object_id == "licence-430623-market"
    assert event.changes == {"key_id": [old.public_key.key_id, new.public_key.key_id]}


@pytest.mark.django_db
def test_rotating_twice_keeps_both_retired_keys_newest_first():
    first = keys.signer_for("ledger").public_key
    second = keys.key_rotate(name="ledger").public_key
    third = keys.key_rotate(name="ledger").public_key
    assert [k.raw for k in keys.public_keys("ledger")] == [third.raw, second.raw, first.raw]


@pytest.mark.django_db
def test_rotating_an_unknown_key_is_not_found():
    with pytest.raises(NotFound):
        keys.key_rotate(name="nobody")


@pytest.mark.django_db
def test_keys_given_by_the_environment_are_used_and_not_rotated_here(monkeypatch, tmp_path):
    private = Ed25519PrivateKey.generate()
    retired = Ed25519PrivateKey.generate()
    retired_raw = retired.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    monkeypatch.setenv("YICIBAN_KEY_LICENCE_TAX", _pem(private))
    monkeypatch.setenv("YICIBAN_KEY_LICENCE_TAX_RETIRED", base64.b64encode(retired_raw).decode())
    signer = keys.signer_for("licence-tax")
    assert signer.public_key.verify(private.sign(b"x"), b"x")
    assert not (tmp_path / "keys" / "licence-tax").exists()
    assert keys.verify("licence-tax", b"y", retired.sign(b"y")).current is False
    assert "licence-tax" in keys.key_names()
    with pytest.raises(Conflict):
        keys.key_rotate(name="licence-tax")


def test_processes_racing_to_create_a_key_end_up_with_one_key():
    results = []
    barrier = threading.Barrier(8)

    def create():
        barrier.wait()
        results.append(keys.signer_for("race").public_key.raw)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1


def test_jwk_and_key_names():
    public = keys.signer_for("licence-1").public_key
    jwk = public.jwk()
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["kid"] == public.key_id
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == public.raw
    keys.signer_for("ledger")
    assert keys.key_names() == ["ledger", "licence-1"]
