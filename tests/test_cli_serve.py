"""`yiciban serve --with-worker`: the background worker runs for as long as the server."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from yiciban import cli


class _FakeProcess:
    def __init__(self, args):
        self.args, self.terminated, self.waited = args, False, False

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        self.waited = True
        return 0


def _serve(monkeypatch, *argv) -> tuple[list, list]:
    started: list[_FakeProcess] = []
    served: list[dict] = []

    def popen(args, **kwargs):
        started.append(_FakeProcess(args))
        started[-1].log = kwargs.get("stdout")
        return started[-1]

    def run(app):
        app.load_config()
        served.append({"bind": app.cfg.bind, "running": [p.terminated for p in started]})

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    monkeypatch.setattr(BaseApplication, "run", run)
    assert cli.main(["serve", "--port", "8799", *argv]) == 0
    return started, served


def test_serve_with_worker_runs_the_worker_while_serving(monkeypatch, settings, tmp_path):
    settings.INSTANCE_DIR = tmp_path
    started, served = _serve(monkeypatch, "--with-worker")
    assert len(started) == 1
    worker = started[0]
    assert worker.args[0] == sys.executable and worker.args[-1] == "worker"
    assert worker.log.name == str(settings.INSTANCE_DIR / "worker.log")  # not the terminal
    assert served == [{"bind": ["127.0.0.1:8799"], "running": [False]}]  # alive while serving
    assert worker.terminated and worker.waited  # stopped with the server


def test_serve_alone_starts_no_worker(monkeypatch):
    started, served = _serve(monkeypatch)
    assert started == [] and len(served) == 1
