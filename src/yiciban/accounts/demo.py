"""Demo applicants (demo/applicants.yaml): persons — two of them with logins —, enterprises
with their legal representatives, and agents. Written through the accounts services by the
demo administrator; matched by natural keys (resident ID through its blind index, USCC,
person + enterprise + kind), so a second load creates nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from yiciban.org.demo import ensure_demo_user, read_yaml
from yiciban.org.models import Region

from . import selectors, services
from .models import Authorisation, AuthorisationKind, Enterprise


def load(report) -> None:
    data = read_yaml(report, "applicants.yaml")
    admin = get_user_model().objects.get(username="admin")
    regions = {r.code: r for r in Region.objects.filter(code__in=_region_codes(data))}

    persons = {}
    for entry in data["persons"]:
        user = None
        if "username" in entry:
            user = ensure_demo_user(report, entry, data["password"], actor=admin, staff=False)
        person = selectors.person_find_by_id_number(entry["id_number"])
        report.count("persons", person is None)
        if person is None:
            person = services.person_register(
                actor=admin,
                name=entry["name"],
                id_number=entry["id_number"],
                phone=entry.get("phone", ""),
                region=regions.get(entry.get("region")),
                user=user,
            )
        persons[entry["id_number"]] = person

    enterprises = {}
    for entry in data["enterprises"]:
        enterprise = Enterprise.objects.filter(uscc=entry["uscc"]).first()
        report.count("enterprises", enterprise is None)
        if enterprise is None:
            enterprise = services.enterprise_register(
                actor=admin,
                uscc=entry["uscc"],
                name=entry["name"],
                registered_address=entry["registered_address"],
                region=regions[entry["region"]],
                legal_representative=persons.get(entry.get("legal_representative")),
            )
        enterprises[entry["uscc"]] = enterprise

    for entry in data["agents"]:
        person, enterprise = persons[entry["id_number"]], enterprises[entry["enterprise"]]
        is_new = not Authorisation.objects.filter(
            person=person, enterprise=enterprise, kind=AuthorisationKind.AGENT
        ).exists()
        report.count("authorisations", is_new)
        if is_new:
            until = entry["until"]
            services.authorisation_grant(
                actor=admin,
                enterprise=enterprise,
                person=person,
                kind=AuthorisationKind.AGENT,
                valid_until=until if isinstance(until, dt.date) else dt.date.fromisoformat(until),
                scope=entry.get("scope", ""),
            )

    for entry in data["persons"]:
        if "username" in entry:
            person = persons[entry["id_number"]]
            represented = [
                a.enterprise.name
                for a in selectors.authorisations_in_force(person)
                if a.kind == AuthorisationKind.LEGAL_REPRESENTATIVE
            ]
            scope = "、".join(represented) or person.name
            report.logins.append((entry["username"], data["password"], entry["role_label"], scope))


def _region_codes(data: dict) -> set[str]:
    codes = {e["region"] for e in data["persons"] if e.get("region")}
    return codes | {e["region"] for e in data["enterprises"]}
