"""Domain errors. Services raise these; the API turns them into RFC 9457 problem details
and the pages into messages. Each carries a machine code and, where a field is at fault,
the field and the rule it broke."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, e.g. "legal_rep.id_number" or "query.start"
    rule: str  # machine name of the rule, e.g. "check_digit"
    message: str  # human text in the user's language

    def as_dict(self) -> dict:
        return {"field": self.field, "rule": self.rule, "message": str(self.message)}


@dataclass
class DomainError(Exception):
    message: str
    code: str = "domain_error"
    errors: list[FieldError] = field(default_factory=list)
    status = 400
    title = "Bad request"

    def __str__(self) -> str:
        return str(self.message)


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"

    def __init__(self, message: str, errors: list[FieldError] | None = None, code: str = "invalid"):
        super().__init__(message=message, code=code, errors=errors or [])

    @classmethod
    def on_field(cls, field_name: str, rule: str, message: str) -> ValidationFailed:
        return cls(message, [FieldError(field_name, rule, message)])


class NotFound(DomainError):
    status = 404
    title = "Not found"

    def __init__(self, message: str, code: str = "not_found"):
        super().__init__(message=message, code=code)


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"

    def __init__(self, message: str, code: str = "forbidden"):
        super().__init__(message=message, code=code)


class Conflict(DomainError):
    """Someone else changed the object first, or the action is not allowed in its state."""

    status = 409
    title = "Conflict"

    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message=message, code=code)
