"""Fixtures: users, a real local SMTP sink (aiosmtpd), a stub SMS provider (a local HTTP
server), and the real django-tasks database worker run in-process."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

DELIVER_TASK_PATH = "yiciban.notifications.tasks.deliver_outbox_message"


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, **extra):
        username = username or f"user{next(counter)}"
        return get_user_model().objects.create_user(
            username=username, password="Test@2021-pass", **extra
        )

    return make


@pytest.fixture
def sms_file(settings, tmp_path):
    """SMS through the file gateway (the development default) into a file of this test."""
    path = tmp_path / "sms.jsonl"
    settings.YICIBAN_SMS_GATEWAY = "yiciban.notifications.gateways.FileSmsGateway"
    settings.YICIBAN_SMS_FILE = str(path)
    return path


def read_sms_file(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_worker(worker_id: str = "test-worker", *, recycle_connections: bool = False) -> None:
    """Run django-tasks-db's own worker loop until no task is ready, in this thread.

    Inside a test transaction the worker's close_old_connections() would close the test's
    connection (autocommit differs), so it is disabled unless the test commits for real."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    if recycle_connections:
        worker.run()
        return
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run()


def ready_delivery_tasks():
    return DBTaskResult.objects.ready().filter(task_path=DELIVER_TASK_PATH)


def pending_delivery_tasks():
    return DBTaskResult.objects.filter(task_path=DELIVER_TASK_PATH, status="READY")


# --- SMTP sink ------------------------------------------------------------------------


def _free_port() -> int:
    # aiosmtpd's controller connects to its own port to check it is up, so it needs a
    # concrete port rather than 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self):
        self.envelopes = []
        self.rcpt_reply = "250 OK"  # set to "550 ..." or "451 ..." to refuse recipients

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.rcpt_reply.startswith("250"):
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink(settings):
    sink = SmtpSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "一次办 <noreply@yiciban.test>"
    yield sink
    controller.stop()


# --- stub SMS provider ----------------------------------------------------------------


class StubProvider:
    """Answers POSTs with queued (status, json) replies, then 200 with a fresh id."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: deque[tuple[int, dict]] = deque()
        self.url = ""
        self._lock = threading.Lock()

    def reply(self, *replies: tuple[int, dict]) -> None:
        self.replies.extend(replies)

    def next_reply(self) -> tuple[int, dict]:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
            return 200, {"message_id": f"prov-{len(self.requests)}"}


@pytest.fixture
def sms_provider(settings):
    stub = StubProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            stub.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)}
            )
            status, payload = stub.next_reply()
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1/sms"
    settings.YICIBAN_SMS_GATEWAY = "yiciban.notifications.gateways.HttpSmsGateway"
    settings.YICIBAN_SMS_HTTP_URL = stub.url
    settings.YICIBAN_SMS_HTTP_KEY = "test-key-123"
    yield stub
    server.shutdown()
    server.server_close()
