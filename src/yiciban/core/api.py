"""Public reference API: deadlines and identifier checks. Filled in by the calendar and
identifier modules."""

from ninja import Router

router = Router(tags=["reference"])
