"""The staff page that revokes a licence: only the issuing department's signers, a reason
required, and the public verification shows the revocation with its date at once."""

import pytest
from django.utils import timezone

from tests.licences.conftest import issue_food
from yiciban.licences.models import LicenceStatus

pytestmark = pytest.mark.django_db


def test_the_issuer_revokes_with_a_reason_and_verification_shows_it(world, client):
    licence = issue_food(world)
    client.force_login(world.approver)
    page = client.get(f"/licences/{licence.number}/revoke")
    assert page.status_code == 200 and licence.number in page.content.decode()
    empty = client.post(f"/licences/{licence.number}/revoke", {"reason": "  "})
    assert empty.status_code == 422 and "请写明原因" in empty.content.decode()
    done = client.post(f"/licences/{licence.number}/revoke", {"reason": "以欺骗手段取得"})
    assert done.status_code == 302 and done["Location"] == f"/licences/verify/{licence.number}"
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.REVOKED
    shown = client.get(done["Location"]).content.decode()
    assert "已撤销" in shown and timezone.localdate().isoformat() in shown
    again = client.post(f"/licences/{licence.number}/revoke", {"reason": "再次"})
    assert again.status_code == 409  # already revoked: refused, the page says why


def test_others_cannot_revoke(world, client):
    licence = issue_food(world)
    assert client.get(f"/licences/{licence.number}/revoke").status_code == 302  # log in first
    client.force_login(world.other_county)  # an approver of another county's regulator
    assert client.post(f"/licences/{licence.number}/revoke", {"reason": "x"}).status_code == 404
    client.force_login(world.reviewer)  # sees the licence, but does not sign for the bureau
    refused = client.post(f"/licences/{licence.number}/revoke", {"reason": "x"})
    assert refused.status_code == 403
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID
    assert client.get("/licences/NOPE/revoke").status_code == 404
