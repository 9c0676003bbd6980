"""Every case event is also a pending ledger entry (in the same transaction, with no personal
data in clear); the answer to a submission is the case's status page, the same as reading
it back; the applicant's notices of a submission are queued for the worker."""

import hashlib
import json

import pytest
from django.test import Client

from tests.cases.helpers import (
    PDF,
    RESTAURANT_KINDS,
    ZHANGSAN_ID,
    code_of,
    pdf_file,
    queued_notices,
    restaurant_form,
    run_case_notices,
    submit_restaurant,
    submit_single,
)
from tests.ninja_answers import as_declared, instants
from yiciban.cases import services
from yiciban.cases.api import CaseOut
from yiciban.cases.models import CaseEvent
from yiciban.ledger.models import Entry
from yiciban.notifications.models import Notification

API = "/api/v1/cases"


def _entries_of(case) -> list[Entry]:
    return [
        e
        for e in Entry.objects.filter(kind="case.event").order_by("seq")
        if e.payload["case"] == case.number
    ]


def _events_of(case) -> list[CaseEvent]:
    return list(
        CaseEvent.objects.filter(case=case)
        .select_related("case_item__department")
        .order_by("occurred_at", "id")
    )


def _details_sha256(event: CaseEvent) -> str:
    details = {
        "note": event.note,
        "data": event.data,
        "on_behalf_of": event.on_behalf_of,
        "channel": event.channel,
    }
    raw = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_entries_match_events(case) -> None:
    events, entries = _events_of(case), _entries_of(case)
    assert len(entries) == len(events) > 0
    for event, entry in zip(events, entries, strict=True):
        assert entry.index is None  # pending: the integrator gives it its place later
        assert entry.payload == {
            "case": case.number,
            "event": event.kind,
            "item": event.case_item.position if event.case_item_id else None,
            "actor": event.actor_id,
            "time": event.occurred_at.isoformat(),
            "data_sha256": _details_sha256(event),
        }
        expected = event.case_item.department.uscc if event.case_item_id else "cases"
        assert entry.producer == expected


def test_every_event_of_a_case_is_a_pending_ledger_entry(world):
    case = submit_restaurant(world).case
    _check_entries_match_events(case)
    services.case_accept(actor=world.clerk, case_id=case.pk)
    _check_entries_match_events(case)
    kinds = [e.payload["event"] for e in _entries_of(case)]
    assert kinds[:2] == ["submitted", "accepted"] and "decided" in kinds  # filing, at once
    text = json.dumps([e.payload for e in _entries_of(case)], ensure_ascii=False)
    # nothing personal in clear: no ID number, name, phone or note
    for secret in (ZHANGSAN_ID, "张三", "13800000001", "通过网上申请提交"):
        assert secret not in text


def test_an_automatic_decision_writes_its_events_in_one_ledger_append(world, monkeypatch):
    calls = []
    unsaved = services.ledger_unsaved

    def counting(*, entries):
        entries = list(entries)
        calls.append(len(entries))
        return unsaved(entries=entries)

    def single(**kwargs):
        raise AssertionError("submission appends entries one by one")

    monkeypatch.setattr(services, "ledger_unsaved", counting)
    monkeypatch.setattr(services, "ledger_append", single)
    case = submit_single(
        world,
        "公共场所卫生许可（秒批）",
        {"enterprise_name": "华容县清风理发店", "venue_staff_with_health_certificate": 3},
        commitments=[code_of(world, "公共场所卫生许可（秒批）")],
        channel="kiosk",
    ).case
    assert calls == [3]  # submitted, accepted, decided
    monkeypatch.undo()
    _check_entries_match_events(case)
    # the notices of both steps are one task; the worker sends them
    assert [n["kind"] for n in queued_notices()] == ["submitted", "accepted"]
    assert run_case_notices() == 1
    assert set(
        Notification.objects.filter(related_id=str(case.pk)).values_list("kind", flat=True)
    ) == {"cases.submitted", "cases.accepted"}


def test_a_failed_service_leaves_no_ledger_entry(world, monkeypatch):
    case = submit_restaurant(world).case
    before = Entry.objects.count()

    def crash(*args, **kwargs):
        raise RuntimeError("gateway down")

    monkeypatch.setattr(services, "notification_send", crash)
    with pytest.raises(RuntimeError):
        services.case_accept(actor=world.clerk, case_id=case.pk)
    assert Entry.objects.count() == before
    assert not CaseEvent.objects.filter(case=case, kind="accepted").exists()


def test_a_refused_submission_leaves_no_ledger_entry(world):
    before = Entry.objects.count()
    with pytest.raises(services.ValidationFailed):
        submit_restaurant(world, skip=("food.application",))
    assert Entry.objects.count() == before
    assert queued_notices() == []


def _as_declared(body: dict):
    """The body through the declared schema (CaseOut), as ninja renders it: the 201 answer
    is sent without ninja's validation, so it must already be exactly this."""
    return as_declared(CaseOut, body)


BUNDLE_KINDS = (*RESTAURANT_KINDS, "fire.application", "alcohol.filing_form")


def _api_client(user) -> tuple[Client, dict]:
    token = services.api_token_create(actor=user, name="t")[1]
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _bundle_payload(world, client, headers, **extra) -> dict:
    """The test restaurant bundle with its materials uploaded by the client's user."""
    materials = []
    for kind in BUNDLE_KINDS:
        answer = client.post(
            f"{API}/uploads", {"file": pdf_file(f"{kind}.pdf", PDF + kind.encode())}, **headers
        )
        assert answer.status_code == 201, answer.content
        materials.append({"kind": kind, "document": answer.json()["id"]})
    return {
        "bundle": "test-restaurant",
        "answers": {"seats": 80, "sells_alcohol": True},
        "form": restaurant_form(world),
        "materials": materials,
        "commitments": [code_of(world, "公众聚集场所投入使用、营业前消防安全检查")],
        **extra,
    }


@pytest.mark.parametrize("channel", ["online", "kiosk"])
def test_the_answer_to_a_submission_is_its_status_page(world, channel):
    """The 201 answer is built from the rows just written; it equals the case read back."""
    client, headers = _api_client(world.zhangsan_user)
    payload = _bundle_payload(world, client, headers, channel=channel)
    answer = client.post(
        API, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **headers
    )
    assert answer.status_code == 201, answer.content
    assert answer["Content-Type"] == "application/json; charset=utf-8"
    body = answer.json()
    assert _as_declared(body) == instants(body)
    assert body["state"] == "submitted" and len(body["items"]) == 4
    assert len(body["events"]) == 1 and body["events"][0]["data"] == {}  # applicant's view
    read_back = client.get(f"{API}/{body['number']}", **headers)
    assert read_back.status_code == 200
    assert body == read_back.json()
    retried = client.post(
        API, payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **headers
    )
    assert retried.status_code == 200 and retried.json() == body


def test_the_answer_to_an_automatic_submission_is_its_status_page(world):
    client, headers = _api_client(world.zhangsan_user)
    code = code_of(world, "公共场所卫生许可（秒批）")
    form = {"enterprise_name": "华容县清风理发店", "venue_staff_with_health_certificate": 3}
    answer = client.post(
        API,
        {"item": code, "form": form, "commitments": [code], "channel": "kiosk"},
        content_type="application/json",
        **headers,
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert _as_declared(body) == instants(body)
    assert body["state"] == "ready_for_delivery"
    assert body["items"][0]["decision"]["basis"] == "automatic"
    assert body == client.get(f"{API}/{body['number']}", **headers).json()


def test_a_counter_submission_answers_with_the_staff_view(world):
    client, headers = _api_client(world.clerk)
    payload = _bundle_payload(
        world, client, headers, channel="counter", applicant_id_number=ZHANGSAN_ID
    )
    answer = client.post(API, payload, content_type="application/json", **headers)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert _as_declared(body) == instants(body)
    assert body["channel"] == "counter"
    assert body["events"][0]["data"]  # staff see the event data
    assert body == client.get(f"{API}/{body['number']}", **headers).json()


def test_another_task_queue_is_told_once_the_rows_are_written(world, settings):
    """With a queue that is not the database (here django_tasks' immediate backend, which
    runs the task as it is enqueued), the notices are enqueued after the case's rows are
    written, so the task finds the case."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    case = submit_restaurant(world).case
    assert queued_notices() == []  # nothing in the database queue
    sent = Notification.objects.filter(related_id=str(case.pk), kind="cases.submitted")
    assert sent.exists()
