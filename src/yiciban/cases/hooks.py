"""Hooks through which higher layers plug into the case engine without the engine importing
them (DESIGN: a lower layer that must react to a higher one exposes a callable registry).

Output issuers (the licences app, later): called inside the delivery's transaction for
every approved item; the first issuer that returns an `IssuedOutput` makes the output (for
instance a signed e-licence) and its reference is stored on the case output. With no issuer
registered the outputs are recorded as licence records only.

    from yiciban.cases.hooks import register_output_issuer
    register_output_issuer(issue_e_licence)      # in the licences AppConfig.ready()

Applicant records (credit and supervision, parks, …): what the platform knows about an
applicant that rules and the green channel read — `{"blacklisted": True}` (严重失信: no
automatic or commitment approval, no green channel), `{"green_channel": True,
"green_channel_reason": "重点项目"}` (key projects, flagged enterprises). Answers of all
providers are merged; a blacklisting wins over a green flag.

Commitment breaches: called when a post-approval check finds the commitment broken, so that
the licences app can revoke and the credit app can record it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IssuedOutput:
    number: str  # the licence number printed on the output
    reference: str = ""  # e.g. the e-licence identifier


@dataclass(frozen=True)
class OutputRequest:
    case: Any  # cases.models.Case
    case_item: Any  # cases.models.CaseItem
    decision: Any  # cases.models.Decision
    proposed_number: str  # what the engine would number it


@dataclass(frozen=True)
class ApplicantSubject:
    kind: str  # "enterprise" or "person"
    identifier: str  # USCC, or the person's primary key (never a resident ID in clear)
    enterprise: Any = None
    person: Any = None


@dataclass
class ApplicantRecord:
    verified: bool = False  # identity established (a registered person or enterprise)
    blacklisted: bool = False
    green_channel: bool = False
    green_channel_reason: str = ""
    flags: list[str] = field(default_factory=list)

    def as_rule_data(self) -> dict:
        return {
            "verified": self.verified,
            "blacklisted": self.blacklisted,
            "green_channel": self.green_channel and not self.blacklisted,
            "flags": list(self.flags),
        }


OutputIssuer = Callable[[OutputRequest], IssuedOutput | None]
ApplicantRecordProvider = Callable[[ApplicantSubject], dict]
BreachHandler = Callable[[Any, str], None]  # (case_item, findings)

_issuers: list[OutputIssuer] = []
_record_providers: list[ApplicantRecordProvider] = []
_breach_handlers: list[BreachHandler] = []


def register_output_issuer(issuer: OutputIssuer) -> None:
    if issuer not in _issuers:
        _issuers.append(issuer)


def unregister_output_issuer(issuer: OutputIssuer) -> None:
    if issuer in _issuers:
        _issuers.remove(issuer)


def issue_output(request: OutputRequest) -> IssuedOutput | None:
    for issuer in _issuers:
        issued = issuer(request)
        if issued is not None:
            return issued
    return None


def register_applicant_record(provider: ApplicantRecordProvider) -> None:
    if provider not in _record_providers:
        _record_providers.append(provider)


def unregister_applicant_record(provider: ApplicantRecordProvider) -> None:
    if provider in _record_providers:
        _record_providers.remove(provider)


def applicant_record(subject: ApplicantSubject, *, verified: bool) -> ApplicantRecord:
    record = ApplicantRecord(verified=verified)
    for provider in _record_providers:
        facts = provider(subject) or {}
        record.blacklisted = record.blacklisted or bool(facts.get("blacklisted"))
        if facts.get("green_channel"):
            record.green_channel = True
            record.green_channel_reason = record.green_channel_reason or str(
                facts.get("green_channel_reason", "")
            )
        record.flags += [str(f) for f in facts.get("flags", [])]
    if record.blacklisted:
        record.green_channel = False
    return record


def register_commitment_breach_handler(handler: BreachHandler) -> None:
    if handler not in _breach_handlers:
        _breach_handlers.append(handler)


def unregister_commitment_breach_handler(handler: BreachHandler) -> None:
    if handler in _breach_handlers:
        _breach_handlers.remove(handler)


def commitment_breached(case_item, findings: str) -> None:
    for handler in _breach_handlers:
        handler(case_item, findings)
