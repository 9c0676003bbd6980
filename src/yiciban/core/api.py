"""Public reference API: deadlines on the working-day calendar and national identifier
checks. Anyone may call it; it reads nothing but the calendar."""

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema
from pydantic import Field

from . import calendar, identifiers
from .errors import NotFound

router = Router(tags=["reference"])

# No legal or promised time limit comes near ten years of working days (the longest ones in
# the catalogue are counted in tens); the cap keeps a public, unauthenticated endpoint from
# being asked to walk the calendar for ever.
MAX_WORKING_DAYS = 3650


class DeadlineOut(Schema):
    start: dt.date
    working_days: int
    due: dt.date = Field(description="The N-th working day after start; start itself if N = 0.")
    provisional: bool = Field(
        description=(
            "True when a year on the way has no official State Council schedule yet and the "
            "answer uses the weekday rule plus the fixed-date holidays."
        )
    )


class IdentifierCheckOut(Schema):
    valid: bool
    reason: str | None = Field(description="Why the value fails, in the request's language.")
    rule: str | None = Field(description="Machine name of the rule broken, e.g. check_char.")


@router.get("/deadline", response=DeadlineOut, summary="Due date N working days after a day")
def deadline(
    request,
    start: Annotated[
        dt.date, Query(description="Day of the starting event, YYYY-MM-DD (not counted).")
    ],
    working_days: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_WORKING_DAYS,
            description=f"N, 0 to {MAX_WORKING_DAYS}; 0 means the same day.",
        ),
    ],
):
    answer = calendar.add_working_days(start, working_days)
    return {
        "start": start,
        "working_days": working_days,
        "due": answer.due,
        "provisional": answer.provisional,
    }


_CHECKS = {"uscc": identifiers.check_uscc, "resident-id": identifiers.check_resident_id}


@router.get(
    "/identifiers/{kind}/{value}",
    response=IdentifierCheckOut,
    summary="Check a unified social credit code (uscc) or a resident ID number (resident-id)",
)
def identifier_check(
    request,
    kind: Annotated[str, Path(description="uscc or resident-id")],
    value: Annotated[str, Path(max_length=64, description="The code or number to check.")],
):
    check = _CHECKS.get(kind)
    if check is None:
        raise NotFound(_("未知的号码类别“%(k)s”，应为 uscc 或 resident-id") % {"k": kind})
    result = check(value)
    return {"valid": result.valid, "reason": result.reason, "rule": result.rule}
