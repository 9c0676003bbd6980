"""The QR code: drawn, decoded with a real reader (zxing-cpp), its token verified offline
against the published JWKS; the public verification page and JSON; the live permit list."""

import base64
import datetime as dt
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from tests.licences.conftest import issue_business, issue_food
from yiciban.core import keys
from yiciban.licences import qr, selectors, services, signing

pytestmark = pytest.mark.django_db


def decode_png(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_qr_decodes_and_the_token_verifies_offline(world, client):
    licence = issue_food(world)
    content = qr.qr_content(licence)
    scanned = decode_png(qr.qr_png(content))
    assert scanned == content
    assert urlsplit(scanned).path == f"/licences/verify/{licence.number}"
    # the verifier fetches the JWKS once and then needs no server
    published = client.get("/.well-known/jwks.json")
    assert published.status_code == 200
    assert published["Content-Type"] == "application/jwk-set+json"
    jwks = published.json()
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in jwks["keys"])
    check = signing.verify_token(token_of(scanned), jwks, today=dt.date.today())
    assert check.ok, check.reason
    assert check.claims["no"] == licence.number
    assert check.claims["sub"] == world.enterprise.uscc
    assert check.claims["typ"] == "food_business_permit"
    assert check.claims["exp"] == licence.valid_until.isoformat()
    assert check.claims["iss"] + f"/licences/verify/{licence.number}" == scanned.split("?")[0]


def test_qr_fits_a_small_version_at_level_m(world):
    import segno

    code = segno.make(qr.qr_content(issue_business(world)), error="m", boost_error=False)
    assert code.error == "M" and code.version <= 15


def test_forged_truncated_and_foreign_tokens_fail(world):
    licence = issue_food(world)
    token = signing.token_for(licence)
    jwks = signing.jwks()
    today = dt.date.today()
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["exp"] = "2099-12-31"  # stretch the validity, keep the signature
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert signing.verify_token(forged, jwks, today=today).reason == "bad_signature"
    assert signing.verify_token(token[:-10], jwks, today=today).reason in {
        "bad_signature",
        "malformed",
    }
    assert signing.verify_token("a.b", jwks, today=today).reason == "malformed"
    assert signing.verify_token("x" * 2000, jwks, today=today).reason == "malformed"
    # signed by a key the platform never published
    stranger = Ed25519PrivateKey.generate()
    head = _b64(json.dumps({"alg": "EdDSA", "kid": "0123456789abcdef"}).encode())
    body = _b64(json.dumps({**claims, "exp": None}).encode())
    foreign = f"{head}.{body}.{_b64(stranger.sign(f'{head}.{body}'.encode()))}"
    assert signing.verify_token(foreign, jwks, today=today).reason == "unknown_key"
    # the same stranger claiming the department's key id
    head = _b64(json.dumps({"alg": "EdDSA", "kid": licence.key_id}).encode())
    impostor = f"{head}.{body}.{_b64(stranger.sign(f'{head}.{body}'.encode()))}"
    assert signing.verify_token(impostor, jwks, today=today).reason == "bad_signature"
    # a key no longer published (its department's keys were wiped and replaced)
    assert signing.verify_token(token, {"keys": []}, today=today).reason == "unknown_key"
    # past the licence's validity, offline
    later = licence.valid_until + dt.timedelta(days=1)
    assert signing.verify_token(token, jwks, today=later).reason == "expired"


def test_token_of_a_rotated_key_still_verifies(world):
    licence = issue_food(world)
    token = signing.token_for(licence)
    keys.key_rotate(name=licence.key_name, actor=None)
    assert signing.verify_token(token, signing.jwks(), today=dt.date.today()).ok


def test_public_verification_page_and_json(world, client):
    licence = issue_food(world)
    token = signing.token_for(licence)
    page = client.get(f"/licences/verify/{licence.number}", {"t": token})
    assert page.status_code == 200
    text = page.content.decode()
    assert "有效" in text and licence.number in text and "token-invalid" not in text
    data = client.get(f"/api/v1/licences/verify/{licence.number}", {"t": token}).json()
    assert data["status"] == "valid" and data["token_ok"] and data["signature_valid"]
    by_token = client.get("/api/v1/licences/verify", {"token": token}).json()
    assert by_token["number"] == licence.number and by_token["token_ok"]

    services.licence_revoke(actor=world.approver, licence=licence, reason="以欺骗手段取得")
    data = client.get(f"/api/v1/licences/verify/{licence.number}", {"t": token}).json()
    assert data["status"] == "revoked" and data["status_reason"] == "以欺骗手段取得"
    assert data["status_changed_at"]
    page = client.get(f"/licences/verify/{licence.number}", {"t": token}).content.decode()
    assert "已撤销" in page and "以欺骗手段取得" in page


def test_verification_refusals(world, client):
    licence = issue_food(world)
    other = issue_food(world)
    token = signing.token_for(licence)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    data = client.get(f"/api/v1/licences/verify/{licence.number}", {"t": forged}).json()
    assert not data["token_ok"] and data["token_reason"] == "bad_signature"
    # a genuine token replayed against another licence's number
    data = client.get(f"/api/v1/licences/verify/{other.number}", {"t": token}).json()
    assert not data["token_ok"] and data["token_reason"] == "number_mismatch"
    page = client.get(f"/licences/verify/{licence.number}", {"t": forged}).content.decode()
    assert 'data-testid="token-invalid"' in page
    missing = client.get("/api/v1/licences/verify/NOPE")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")
    assert client.get("/licences/verify/NOPE").status_code == 404
    bad = client.get("/api/v1/licences/verify", {"token": "garbage"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "token"


def test_a_changed_licence_reports_the_old_qr_as_superseded(world, client):
    licence = issue_food(world)
    token = signing.token_for(licence)
    services.licence_change(
        actor=world.approver, licence=licence, fields={"premises": "新址"}, reason="迁址"
    )
    data = client.get(f"/api/v1/licences/verify/{licence.number}", {"t": token}).json()
    assert data["token_ok"] and data["superseded"] and data["version"] == 2


def test_business_licence_qr_lists_the_live_permits(world, client):
    business = issue_business(world)
    scanned = decode_png(qr.qr_png(qr.qr_content(business)))
    path = urlsplit(scanned).path
    assert path == f"/licences/enterprise/{world.enterprise.uscc}"
    listing = client.get(f"/api/v1/licences/enterprises/{world.enterprise.uscc}/permits").json()
    assert listing["business_licence"] == business.number and listing["permits"] == []

    permit = issue_food(world)
    page = client.get(path, {"t": token_of(scanned)}).content.decode()
    assert f'data-testid="permit-{permit.number}"' in page and "token-invalid" not in page
    listing = client.get(f"/api/v1/licences/enterprises/{world.enterprise.uscc}/permits").json()
    assert [(p["number"], p["status"]) for p in listing["permits"]] == [(permit.number, "valid")]
    assert listing["valid_count"] == 1

    services.licence_suspend(actor=world.approver, licence=permit, reason="整改")
    listing = client.get(f"/api/v1/licences/enterprises/{world.enterprise.uscc}/permits").json()
    assert listing["permits"][0]["status"] == "suspended" and listing["valid_count"] == 0
    services.licence_revoke(actor=world.approver, licence=permit, reason="吊销")
    page = client.get(path).content.decode()
    assert "已撤销" in page
    listing = selectors.permit_list(world.enterprise.uscc)
    assert listing["permits"][0]["status"] == "revoked"
    assert client.get("/api/v1/licences/enterprises/91430000MA0000000X/permits").status_code == 404
