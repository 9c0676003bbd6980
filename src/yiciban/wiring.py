"""Layer 7 wiring: connects apps of layer 4 to hooks that the case engine (layer 5) exposes.

The case engine calls its output issuers at delivery; the issuer that makes e-licences lives
in `licences` (layer 4), which may not import `cases`. Registering it from `licences` would
point an import up, so the faces layer — which may import both — does it here, once, when
Django is ready. The function registered adapts the case engine's objects to the licences
service, which takes plain arguments.

Listed in INSTALLED_APPS as ``yiciban.wiring.WiringConfig``; it has no models."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _form_values(form_data: Any, item_code: str) -> dict[str, Any]:
    """The application's values by data element for one item: the shared values (top level
    and the "base" section of a bundle's merged form), then the item's own section, which
    wins."""
    values: dict[str, Any] = {}
    if not isinstance(form_data, dict):
        return values
    values.update({k: v for k, v in form_data.items() if not isinstance(v, dict)})
    for section in ("base", item_code):
        if isinstance(form_data.get(section), dict):
            values.update(form_data[section])
    return values


def issue_case_licence(request):
    """cases.hooks output issuer: the e-licence of an approved item, or None when its
    output is not an e-licence type (the engine then records the output by number)."""
    from yiciban.cases.hooks import IssuedOutput
    from yiciban.licences.services import licence_issue_for_decision

    item, case = request.case_item, request.case
    type_code = item.item_version.output_licence_type
    if not type_code:
        return None
    licence = licence_issue_for_decision(
        decided_by=request.decision.decided_by,
        licence_type_code=type_code,
        issuing_department=item.department,
        enterprise=case.applicant_enterprise,
        person=None if case.applicant_enterprise_id else case.applicant_person,
        form_values=_form_values(case.form_data, item.code),
        source_reference=f"case:{case.number}",
    )
    if licence is None:
        return None
    return IssuedOutput(number=licence.number, reference=f"licence:{licence.number}")


class WiringConfig(AppConfig):
    name = "yiciban.wiring"
    label = "wiring"
    verbose_name = "wiring"

    def ready(self) -> None:
        from yiciban.cases.hooks import register_output_issuer

        register_output_issuer(issue_case_licence)
