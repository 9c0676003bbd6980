"""Reads of applicants: persons, enterprises, and who may act for which enterprise."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiciban.core import crypto
from yiciban.core.errors import NotFound, ValidationFailed
from yiciban.core.identifiers import check_resident_id, normalize_resident_id
from yiciban.core.statements import Columns, Statement
from yiciban.org.models import Region

from .models import Authorisation, AuthorisationKind, Enterprise, Person

ID_NUMBER_INDEX_PURPOSE = "resident_id"


def id_number_index(id_number: str) -> str:
    """The blind index under which a (normalised) resident ID is looked up."""
    return crypto.blind_index(normalize_resident_id(id_number), purpose=ID_NUMBER_INDEX_PURPOSE)


def in_force_on(day: dt.date | None = None) -> Q:
    """Authorisations in force on `day` (default today): started, not ended, and not revoked
    before the day ended — an authorisation revoked at 10:00 no longer counts that day."""
    day = day or timezone.localdate()
    end_of_day = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    return (
        Q(valid_from__lte=day)
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        & (Q(revoked_at__isnull=True) | Q(revoked_at__gte=end_of_day))
    )


def person_find_by_id_number(id_number: str) -> Person | None:
    """Exact lookup through the blind index; the clear number is never queried for."""
    result = check_resident_id(id_number or "")
    if not result:
        raise ValidationFailed.on_field("id_number", result.rule, result.reason)
    return Person.objects.filter(id_number_index=id_number_index(id_number)).first()


_PERSON = Columns(Person, "p")
_PERSON_REGION = Columns(Region, "r")
_REGION_FK = Person._meta.get_field("region")
# Every online submission asks this: one join, the values exactly what
# `Person.objects.select_related("region")` gives.
_PERSON_FOR_USER = Statement(
    lambda quote, _variant: (
        f"SELECT {_PERSON.select(quote)}, {_PERSON_REGION.select(quote)} "
        f"FROM {quote(Person._meta.db_table)} p "
        f"LEFT OUTER JOIN {quote(Region._meta.db_table)} r "
        f"ON r.{quote(Region._meta.pk.column)} = p.{quote(_REGION_FK.column)} "
        f"WHERE p.{quote(Person._meta.get_field('user').column)} = %s"
    )
)


def person_for_user(user) -> Person | None:
    """The registered person of a login account (with the region), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    row = _PERSON_FOR_USER.fetchone([user.pk])  # user is one-to-one: at most one row
    if row is None:
        return None
    n = len(_PERSON)
    person = _PERSON.load(row[:n])
    region = _PERSON_REGION.load(row[n:]) if row[n] is not None else None
    _REGION_FK.set_cached_value(person, region)
    return person


def enterprise_by_uscc(uscc: str) -> Enterprise:
    try:
        return Enterprise.objects.select_related("region").get(uscc=uscc.strip().upper())
    except Enterprise.DoesNotExist:
        raise NotFound(
            _("统一社会信用代码%(c)s的企业不存在") % {"c": uscc}, code="enterprise_not_found"
        ) from None


def authorisations_in_force(
    person: Person, *, on: dt.date | None = None
) -> QuerySet[Authorisation]:
    """The person's authorisations in force on `on`, with their enterprises."""
    return (
        Authorisation.objects.filter(in_force_on(on), person=person)
        .select_related("enterprise__region")
        .order_by("enterprise__name", "kind", "id")
    )


def person_can_act_for(person: Person, enterprise: Enterprise, on: dt.date | None = None) -> bool:
    """May `person` act for `enterprise` on `on` (default today): as its legal
    representative or as an agent whose authorisation is in force?"""
    if person is None or enterprise is None:
        return False
    return Authorisation.objects.filter(
        in_force_on(on), person=person, enterprise=enterprise
    ).exists()


def is_legal_representative(person: Person | None, enterprise: Enterprise) -> bool:
    if person is None:
        return False
    return Authorisation.objects.filter(
        in_force_on(),
        person=person,
        enterprise=enterprise,
        kind=AuthorisationKind.LEGAL_REPRESENTATIVE,
    ).exists()
