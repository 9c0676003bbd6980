"""yiciban.core.audit.record: who, on whose behalf, what, from where — taken from the request
context that the middleware (or a CLI command / task) binds."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from yiciban.core.audit import changed_fields, record
from yiciban.core.context import RequestContext, bound, current, with_channel
from yiciban.core.middleware import RequestContextMiddleware
from yiciban.core.models import AuditEvent, CalendarYear, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return User.objects.create_user("clerk", password=None, display_name="窗口 张三")


def test_record_takes_actor_object_and_bound_context(user):
    context = RequestContext(request_id="req-42", client_address="203.0.113.7", channel="kiosk")
    with bound(context):
        event = record(
            actor=user,
            action="core.test_write",
            obj=user,
            changes={"display_name": ["", "窗口 张三"]},
            on_behalf_of="person:17",
        )
    event.refresh_from_db()
    assert event.actor == user
    assert event.action == "core.test_write"
    assert (event.object_type, event.object_id) == ("core.user", str(user.pk))
    assert event.changes == {"display_name": ["", "窗口 张三"]}
    assert event.on_behalf_of == "person:17"
    assert (event.request_id, event.client_address, event.channel) == (
        "req-42",
        "203.0.113.7",
        "kiosk",
    )
    assert event.occurred_at is not None


def test_without_a_bound_context_the_channel_is_cli():
    event = record(actor=None, action="core.test_write", object_type="x", object_id=1)
    assert event.channel == "cli"
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)
    assert event.client_address is None
    assert (event.object_type, event.object_id) == ("x", "1")


def test_anonymous_actor_is_stored_as_none():
    event = record(actor=AnonymousUser(), action="core.test_write", object_type="x", object_id=1)
    assert event.actor is None


def test_contexts_nest_and_unwind():
    outer = RequestContext(request_id="outer", channel="web")
    with bound(outer):
        with bound(with_channel("task")):
            assert current().request_id == "outer"
            assert current().channel == "task"
        assert current() is outer


def test_middleware_binds_request_id_and_address_for_the_audit(user):
    seen = {}

    def write(request):
        seen["event"] = record(actor=user, action="core.test_write", obj=user)
        return HttpResponse("ok")

    middleware = RequestContextMiddleware(write)
    request = RequestFactory().post(
        "/api/v1/anything", HTTP_X_REQUEST_ID="client-7", REMOTE_ADDR="198.51.100.9"
    )
    response = middleware(request)
    event = seen["event"]
    assert (event.request_id, event.client_address, event.channel) == (
        "client-7",
        "198.51.100.9",
        "api",
    )
    assert response["X-Request-ID"] == "client-7"


@pytest.mark.parametrize("supplied", ["", "x" * 65, "bad\nid"])
def test_middleware_replaces_unusable_request_ids(user, supplied):
    seen = {}

    def write(request):
        seen["event"] = record(actor=user, action="core.test_write", obj=user)
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=supplied)
    response = RequestContextMiddleware(write)(request)
    assert re.fullmatch(r"[0-9a-f]{32}", seen["event"].request_id)
    assert seen["event"].channel == "web"
    assert response["X-Request-ID"] == seen["event"].request_id


def test_an_event_rolls_back_with_its_write(user):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        record(actor=user, action="core.test_write", obj=user)
        raise RuntimeError("the service failed after recording")
    assert not AuditEvent.objects.filter(action="core.test_write").exists()


def test_changed_fields_lists_only_differences():
    year = CalendarYear.objects.get(year=2026)
    before = {"official": True, "source": year.source, "note": ""}
    year.note = "已核对"
    assert changed_fields(year, before, ["official", "source", "note"]) == {"note": ["", "已核对"]}


def test_record_returns_what_the_database_holds(user):
    # record() writes with a raw INSERT built once: the instance it returns must equal the row
    # read back, field by field, as objects.create's did, and keep the actor object.
    context = RequestContext(request_id="req-43", client_address="2001:db8::1", channel="api")
    with bound(context):
        event = record(actor=user, action="core.test_write", object_type="x.y", object_id=7)
        anonymous = record(actor=AnonymousUser(), action="core.test_write", obj=user)
    stored = AuditEvent.objects.get(pk=event.pk)
    for field in AuditEvent._meta.concrete_fields:
        assert getattr(event, field.attname) == getattr(stored, field.attname), field.name
    assert event._state.adding is False
    assert event.actor is user
    assert (event.object_id, event.changes) == ("7", {})
    assert AuditEvent.objects.get(pk=anonymous.pk).actor_id is None
    assert anonymous.actor is None and anonymous.pk > event.pk
