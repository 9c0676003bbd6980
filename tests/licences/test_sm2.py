"""SM2 with SM3 as a department's licence signature: the library against the standard's
examples (tests/data/sm2_gbt32918.json), the key store and rotation, the JWKS entry, QR
tokens verified offline, and the stored signature checked at verification."""

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec

from tests.licences.conftest import issue_business, issue_food
from yiciban.core.errors import Conflict, NotFound
from yiciban.licences import selectors, signing, sm2
from yiciban.licences.models import Licence

VECTORS = json.loads((Path(__file__).parents[1] / "data" / "sm2_gbt32918.json").read_text())


def _int(text: str) -> int:
    return int(text, 16)


def test_sm3_gives_the_digests_of_gbt_32905_annex_a():
    for example in VECTORS["sm3"]:
        digest = hashes.Hash(hashes.SM3())
        digest.update(example["message"].encode("ascii"))
        assert digest.finalize().hex().upper() == example["digest"]


def test_the_standard_signature_verifies_and_a_changed_one_does_not():
    v = VECTORS["sm2_sign"]
    x, y = _int(v["public_x"]), _int(v["public_y"])
    signature = bytes.fromhex(v["r"] + v["s"])
    message = v["message"].encode("ascii")
    assert sm2.verify_with(x, y, signature, message)
    assert not sm2.verify_with(x, y, signature, message + b".")
    tampered = bytearray(signature)
    tampered[40] ^= 1
    assert not sm2.verify_with(x, y, bytes(tampered), message)
    assert not sm2.verify_with(x, y, signature[:-1], message)
    # the public key is the standard's private key times G
    derived = ec.derive_private_key(_int(v["private_key"]), ec.SM2()).public_key()
    assert (derived.public_numbers().x, derived.public_numbers().y) == (x, y)


def test_signatures_made_with_the_standard_key_verify_and_differ_each_time():
    v = VECTORS["sm2_sign"]
    signer = sm2.Signer("vector", ec.derive_private_key(_int(v["private_key"]), ec.SM2()))
    message = v["message"].encode("ascii")
    first, second = signer.sign(message), signer.sign(message)
    assert first != second  # a fresh k each time
    assert len(first) == 64
    assert signer.public_key.verify(first, message) and signer.public_key.verify(second, message)


@pytest.fixture
def sm2_market(world, settings):
    settings.YICIBAN_LICENCE_KEY_ALGORITHMS = {world.market.uscc: "SM2"}
    return world


@pytest.mark.django_db
def test_a_department_configured_for_sm2_signs_with_sm2(sm2_market, client):
    world = sm2_market
    licence = issue_food(world)
    assert licence.signature_algorithm == "SM2"
    assert len(signing.b64url_decode(licence.signature)) == 64
    assert signing.signature_valid(licence)
    # the other department keeps Ed25519
    assert signing.algorithm_for(world.health) == "Ed25519"
    published = client.get("/.well-known/jwks.json").json()
    entry = next(k for k in published["keys"] if k["kid"] == licence.key_id)
    assert (entry["kty"], entry["crv"], entry["alg"]) == ("EC", "SM2", "SM2")
    assert len(base64.urlsafe_b64decode(entry["x"] + "=")) == 32
    token = signing.token_for(licence)
    header = json.loads(signing.b64url_decode(token.split(".")[0]))
    assert header == {"alg": "SM2", "kid": licence.key_id}
    check = signing.verify_token(token, published, today=dt.date.today())
    assert check.ok, check.reason
    # the verification API checks both the stored signature and the token
    answer = client.get("/api/v1/licences/verify", {"token": token}).json()
    assert answer["signature_valid"] and answer["token_ok"] and answer["status"] == "valid"


@pytest.mark.django_db
def test_forged_and_cross_algorithm_sm2_tokens_are_refused(sm2_market):
    licence = issue_food(sm2_market)
    jwks = signing.jwks()
    today = dt.date.today()
    token = signing.token_for(licence)
    head, body, sig = token.split(".")
    claims = json.loads(signing.b64url_decode(body))
    claims["exp"] = "2099-12-31"
    forged = f"{head}.{signing.b64url(signing.canonical_json(claims))}.{sig}"
    assert signing.verify_token(forged, jwks, today=today).reason == "bad_signature"
    # an SM2 key named with the Ed25519 algorithm does not verify
    as_eddsa = signing.b64url(signing.canonical_json({"alg": "EdDSA", "kid": licence.key_id}))
    assert signing.verify_token(f"{as_eddsa}.{body}.{sig}", jwks, today=today).reason == (
        "bad_signature"
    )
    # signed by an SM2 key that is not published
    stranger = sm2.Signer("x", ec.generate_private_key(ec.SM2()))
    signing_input = f"{head}.{body}"
    foreign = f"{signing_input}.{signing.b64url(stranger.sign(signing_input.encode()))}"
    assert signing.verify_token(foreign, jwks, today=today).reason == "bad_signature"
    assert signing.verify_token(f"{signing_input}.{sig[:-4]}", jwks, today=today).reason in {
        "bad_signature",
        "malformed",
    }


@pytest.mark.django_db
def test_a_stored_sm2_signature_no_longer_matches_altered_content(sm2_market):
    licence = issue_business(sm2_market)
    Licence.objects.filter(pk=licence.pk).update(holder_name="别的公司")
    assert not selectors.licence_verify(licence.number).signature_valid


@pytest.mark.django_db
def test_sm2_rotation_keeps_old_signatures_verifiable(sm2_market):
    world = sm2_market
    old = issue_food(world)
    token = signing.token_for(old)
    new_signer = sm2.key_rotate(name=old.key_name, actor=None)
    assert new_signer.public_key.key_id != old.key_id
    newer = issue_business(world)
    assert newer.key_id == new_signer.public_key.key_id
    assert signing.signature_valid(old) and signing.signature_valid(newer)
    kids = {k["kid"] for k in signing.jwks()["keys"]}
    assert {old.key_id, newer.key_id} <= kids
    assert signing.verify_token(token, signing.jwks(), today=dt.date.today()).ok
    with pytest.raises(NotFound):
        sm2.key_rotate(name="dept-unknown", actor=None)


@pytest.mark.django_db
def test_an_sm2_key_from_the_environment_is_used_and_cannot_be_rotated_here(
    sm2_market, monkeypatch
):
    from tongsuopy.crypto import serialization

    private = ec.generate_private_key(ec.SM2())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = signing.key_name_for(sm2_market.market)
    monkeypatch.setenv(sm2._env_name(name), pem)
    licence = issue_food(sm2_market)
    assert licence.key_id == sm2.Signer(name, private).public_key.key_id
    with pytest.raises(Conflict):
        sm2.key_rotate(name=name, actor=None)


def test_an_unknown_algorithm_setting_is_refused(settings):
    class Dept:
        uscc = "11430623000000000X"

    settings.YICIBAN_LICENCE_KEY_ALGORITHMS = {"*": "RSA"}
    with pytest.raises(ValueError):
        signing.algorithm_for(Dept())
