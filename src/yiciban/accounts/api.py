"""The logged-in applicant's own view: who they are (masked) and whom they may act for."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from ninja.security import django_auth

from . import selectors
from .models import Authorisation, Person

router = Router(tags=["accounts"])


class PersonOut(Schema):
    name: str
    id_number_masked: str
    phone_masked: str
    region_code: str | None

    @staticmethod
    def resolve_region_code(obj: Person) -> str | None:
        return obj.region.code if obj.region_id else None


class ActingForOut(Schema):
    uscc: str
    name: str
    region_code: str
    kind: str
    kind_label: str
    valid_from: dt.date
    valid_until: dt.date | None

    @staticmethod
    def resolve_uscc(obj: Authorisation) -> str:
        return obj.enterprise.uscc

    @staticmethod
    def resolve_name(obj: Authorisation) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_region_code(obj: Authorisation) -> str:
        return obj.enterprise.region.code

    @staticmethod
    def resolve_kind_label(obj: Authorisation) -> str:
        return str(obj.get_kind_display())


class MeOut(Schema):
    username: str
    display_name: str
    person: PersonOut | None
    acting_for: list[ActingForOut]


@router.get("/me", response=MeOut, auth=django_auth, summary="The logged-in applicant")
def me(request):
    user = request.auth
    person = selectors.person_for_user(user)
    acting_for = list(selectors.authorisations_in_force(person)) if person else []
    return {
        "username": user.get_username(),
        "display_name": getattr(user, "display_name", "") or "",
        "person": person,
        "acting_for": acting_for,
    }
