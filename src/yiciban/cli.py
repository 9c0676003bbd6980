"""`yiciban` — the operator's command.

yiciban setup [--demo]     migrate, collect static files, optionally load the demo data
                           (idempotent: a second run changes nothing)
yiciban serve [--host H] [--port P] [--workers N] [--with-worker]
                           production WSGI server (gunicorn; static files by whitenoise);
                           --with-worker also runs the background worker while it serves
yiciban worker [...]       background task worker (Django Tasks, database queue)
yiciban <django command>   any Django management command (migrate, createsuperuser, …)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    import django

    django.setup()


def setup(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yiciban setup")
    parser.add_argument("--demo", action="store_true", help="load the demo data set")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    _django()
    from django.core.management import call_command

    verbosity = 0 if args.quiet else 1
    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.demo:
        from yiciban import demo_loader

        report = demo_loader.load()
        if not args.quiet:
            print(report.summary())
    return 0


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="yiciban serve")
    parser.add_argument("--host", default=os.environ.get("YICIBAN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("YICIBAN_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    # Threads keep a sync worker from idling while a slow client reads a large response.
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="also run `yiciban worker` (notices, ledger integration, house delivery) as a "
        "child process for as long as the server runs: one command for a demo or a small site",
    )
    args = parser.parse_args(argv)
    _django()

    from gunicorn.app.base import BaseApplication

    from yiciban.wsgi import application

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread" if args.threads > 1 else "sync")
            if args.access_log:
                self.cfg.set("accesslog", "-")

        def load(self):
            return application

    background = _start_worker() if args.with_worker else None
    try:
        _Server().run()
    finally:
        if background is not None:
            _stop(background)
    return 0


def _start_worker() -> subprocess.Popen:
    from pathlib import Path

    from django.conf import settings

    # its log (a line per task) goes to a file, so the terminal keeps the server's lines
    log_path = Path(settings.INSTANCE_DIR) / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Background worker started (yiciban worker), its log: {log_path}", flush=True)
    run_cli = "import sys; from yiciban.cli import main; sys.exit(main())"
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-c", run_cli, "worker"], stdout=log, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()  # db_worker finishes the task it is running, then exits
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker(argv: list[str]) -> int:
    _django()
    from django.core.management import execute_from_command_line

    # Poll often: ledger integration and notifications promise sub-second pick-up.
    if not any(a.startswith("--interval") for a in argv):
        argv = ["--interval", "0.1", *argv]
    execute_from_command_line(["yiciban", "db_worker", *argv])
    return 0


COMMANDS = {"setup": setup, "serve": serve, "worker": worker}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        if not argv:
            return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yiciban", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
