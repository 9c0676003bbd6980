"""The public verification's shortcuts answer exactly what the plain path would: the
remembered signatures, the precompiled licence query and the pre-encoded JSON answer."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.licences.conftest import issue_food
from tests.ninja_answers import as_declared, instants
from yiciban.core import keys
from yiciban.licences import selectors, services, signing
from yiciban.licences.api import VerificationOut
from yiciban.licences.models import Licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def crypto_calls(monkeypatch):
    """Counts the real signature verifications, on an empty cache."""
    signing.forget_verified_signatures()
    calls = []
    real = signing._verify_uncached

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(signing, "_verify_uncached", counting)
    yield calls
    signing.forget_verified_signatures()


def test_a_remembered_signature_is_not_verified_again(world, crypto_calls):
    licence = issue_food(world)
    token = signing.token_for(licence)
    first = selectors.licence_verify(licence.number, token)
    assert first.signature_valid and first.token_ok
    assert len(crypto_calls) == 2  # the stored signature and the token's
    again = selectors.licence_verify(licence.number, token)
    assert again.as_dict() == first.as_dict()
    assert len(crypto_calls) == 2


def test_the_cache_keeps_only_successes_and_is_bounded(world, crypto_calls, settings):
    licence = issue_food(world)
    token = signing.token_for(licence)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        check = signing.check_token(forged, signing.published_key, today=dt.date.today())
        assert check.reason == "bad_signature"
    assert len(crypto_calls) == 2  # a failure is verified every time
    settings.YICIBAN_SIGNATURE_CACHE_SIZE = 1
    selectors.licence_verify(licence.number, token)
    assert len(signing._verified) == 1
    settings.YICIBAN_SIGNATURE_CACHE_SIZE = 0  # off: every request verifies
    calls = len(crypto_calls)
    selectors.licence_verify(licence.number, token)
    selectors.licence_verify(licence.number, token)
    assert len(crypto_calls) == calls + 4


def test_a_remembered_signature_does_not_vouch_for_other_content_keys_or_dates(world, crypto_calls):
    licence = issue_food(world)
    token = signing.token_for(licence)
    jwks = signing.jwks()
    today = dt.date.today()
    assert signing.verify_token(token, jwks, today=today).ok
    # the same kid published with other key bytes (a forged JWKS) is verified, and fails
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    swapped = {"keys": [{**k, "x": signing.b64url(stranger)} for k in jwks["keys"]]}
    assert signing.verify_token(token, swapped, today=today).reason == "bad_signature"
    # a malformed JWK is refused, not an error
    broken = {"keys": [{**k, "x": ["not", "a", "string"]} for k in jwks["keys"]]}
    assert signing.verify_token(token, broken, today=today).reason == "bad_signature"
    # a key no longer published is not found, whatever the cache holds
    assert signing.verify_token(token, {"keys": []}, today=today).reason == "unknown_key"
    # the dates are checked on every request, outside the cache
    later = licence.valid_until + dt.timedelta(days=1)
    assert signing.verify_token(token, jwks, today=later).reason == "expired"
    # the stored signature no longer matches once the content changes under it
    assert selectors.licence_verify(licence.number).signature_valid
    Licence.objects.filter(pk=licence.pk).update(holder_name="别人")
    assert not selectors.licence_verify(licence.number).signature_valid


def test_a_rotated_key_still_verifies_through_the_cache(world, crypto_calls):
    licence = issue_food(world)
    token = signing.token_for(licence)
    assert selectors.licence_verify(licence.number, token).token_ok
    keys.key_rotate(name=licence.key_name, actor=None)
    signing.forget_published_keys()
    result = selectors.licence_verify(licence.number, token)
    assert result.token_ok and result.signature_valid


def test_the_precompiled_query_reads_what_the_orm_reads(world):
    licence = issue_food(world)
    services.licence_suspend(actor=world.approver, licence=licence, reason="整改")
    fast = selectors._licence_for_verification(licence.number)
    plain = Licence.objects.get(number=licence.number)
    for field in Licence._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(plain, field.attname), field.name
    assert isinstance(fast.fields, dict) and fast.fields == plain.fields
    assert fast.licence_type.code == "food_business_permit"
    assert not fast._state.adding and fast._state.db == plain._state.db
    with pytest.raises(selectors.NotFound):
        selectors._licence_for_verification("NOPE")


def _as_ninja_renders(data: dict):
    """The JSON value ninja makes of `data` through the schema (api_json writes the same
    value as compact UTF-8, not with ninja's spacing and escapes)."""
    return as_declared(VerificationOut, data)


@pytest.mark.parametrize("state", ["valid", "suspended", "revoked", "superseded"])
def test_the_answer_is_what_ninja_renders_for_the_schema(world, client, state):
    licence = issue_food(world)
    token = signing.token_for(licence)
    if state == "suspended":
        services.licence_suspend(actor=world.approver, licence=licence, reason="整改")
    elif state == "revoked":
        services.licence_revoke(actor=world.approver, licence=licence, reason="吊销")
    elif state == "superseded":
        services.licence_change(
            actor=world.approver, licence=licence, fields={"premises": "新址"}, reason="迁址"
        )
    for response, given in (
        (client.get("/api/v1/licences/verify", {"token": token}), token),
        (client.get(f"/api/v1/licences/verify/{licence.number}", {"t": token}), token),
        (client.get(f"/api/v1/licences/verify/{licence.number}"), ""),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        body = response.content.decode()
        data = json.loads(body)
        assert list(data) == list(VerificationOut.model_fields)
        # what ninja made of the same answer through the schema, value for value
        assert instants(data) == _as_ninja_renders(data)
        answer = selectors.licence_verify(licence.number, given).as_dict()
        assert instants(data) == _as_ninja_renders(answer)
        assert "\\u" not in body  # written as UTF-8
    assert data["status"] == ("valid" if state == "superseded" else state)


def test_the_openapi_schema_still_describes_the_answer(client):
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/licences/verify", "/api/v1/licences/verify/{number}"):
        answer = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["$ref"].endswith("/VerificationOut")
