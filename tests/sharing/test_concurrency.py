"""A revocation and a read at the same moment: the read either completes first (and is
logged) or is refused after the revocation — never a read logged after the revocation."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tests.cases.test_concurrency import race
from yiciban.core.errors import PermissionDenied
from yiciban.sharing import services
from yiciban.sharing.models import Grant, ReadLog

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
    ),
]


def test_concurrent_revoke_and_read(world):
    today = timezone.localdate()
    for _round in range(5):
        grant = services.grant_create(
            actor=world.tax_admin,
            category_code="tax_payment",
            grantor=world.tax,
            grantee=world.housing,
            purpose="核验契税",
            valid_from=today,
            valid_until=today + dt.timedelta(days=5),
        )
        outcomes = race(
            lambda g=grant: services.grant_revoke(
                actor=world.tax_admin, grant_id=g.pk, reason="停"
            ),
            lambda g=grant: services.record_read(
                actor=world.housing_officer,
                grant_id=g.pk,
                category_code="tax_payment",
                subject=services.subject_of(person=world.buyer),
            ),
        )
        assert outcomes[0][1] is None  # the revocation always succeeds
        revoked_at = Grant.objects.get(pk=grant.pk).revoked_at
        read_result, read_error = outcomes[1]
        if read_error is None:
            assert read_result.read.read_at < revoked_at
        else:
            assert isinstance(read_error, PermissionDenied)
            assert read_error.code == "grant_revoked"
            assert not ReadLog.objects.filter(grant=grant).exists()
