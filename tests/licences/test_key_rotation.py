"""Rotating a department's licence-signing key (`yiciban licence_keys rotate`): new licences
are signed with the new key, every licence and QR token signed before still verifies
through the published JWKS, and only a platform admin may rotate."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.licences.conftest import issue_food
from yiciban.core.errors import PermissionDenied
from yiciban.core.models import AuditEvent
from yiciban.licences import selectors, services, signing

pytestmark = pytest.mark.django_db


def _kids():
    return {key["kid"] for key in signing.jwks()["keys"]}


@pytest.mark.parametrize("algorithm", ["Ed25519", "SM2"])
def test_rotation_keeps_old_licences_verifiable(world, platform_admin, settings, algorithm):
    settings.YICIBAN_LICENCE_KEY_ALGORITHMS = {world.market.uscc: algorithm}
    before = issue_food(world)
    token = signing.token_for(before)
    out = StringIO()
    call_command(
        "licence_keys", "rotate", world.market.uscc, "--actor", platform_admin.username, stdout=out
    )
    after = issue_food(world)
    assert after.signature_algorithm == before.signature_algorithm == algorithm
    assert after.key_id != before.key_id
    assert after.key_id in out.getvalue()
    assert {before.key_id, after.key_id} <= _kids()
    for licence in (before, after):
        assert signing.signature_valid(licence)
    # The QR token printed before the rotation still checks out, online and offline.
    answer = selectors.licence_verify(before.number, token)
    assert answer.signature_valid and answer.token_ok
    offline = signing.verify_token(token, signing.jwks(), today=dt.date.today())
    assert offline.ok
    event = AuditEvent.objects.filter(object_type="core.signing_key").latest("id")
    assert event.actor == platform_admin
    listing = StringIO()
    call_command("licence_keys", "list", stdout=listing)
    line = next(x for x in listing.getvalue().splitlines() if x.startswith(world.market.uscc))
    assert after.key_id in line and before.key_id in line and algorithm in line


def test_only_a_platform_admin_rotates(world):
    issue_food(world)
    kids = _kids()
    with pytest.raises(PermissionDenied):
        services.signing_key_rotate(actor=world.approver, department=world.market)
    with pytest.raises(CommandError, match="平台管理员"):
        call_command(
            "licence_keys", "rotate", world.market.uscc, "--actor", world.approver.username
        )
    assert _kids() == kids


def test_rotate_refuses_unknown_department_and_user(world, platform_admin):
    with pytest.raises(CommandError, match="no department"):
        call_command("licence_keys", "rotate", "NOPE", "--actor", platform_admin.username)
    with pytest.raises(CommandError, match="no user"):
        call_command("licence_keys", "rotate", world.market.uscc, "--actor", "nobody")
