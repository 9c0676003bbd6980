"""Bytes a hall display screen transfers: the playlist page `/openness/screen/<code>/` in
Debian's chromium (Playwright, the launch flags of tests/e2e/conftest.py), first load, then
--cycles refresh cycles of screen.js (each fetches the playlist from the API), with every
request that leaves localhost counted.

    export YICIBAN_INSTANCE_DIR=/tmp/inst-h5bench/display
    DATABASE_URL=sqlite:////tmp/inst-h5bench/display/db.sqlite3 \\
        .venv/bin/python bench/openness_display.py --prepare --cycles 30

--prepare runs `yiciban setup --demo` (the demo data set, with the 华容县政务服务中心 screen:
3 chosen articles, 8 filled in, refresh every 120 s). The server is `yiciban serve` on a
loopback port. The page's clock is Playwright's fake clock, so the cycles run at once: each
cycle advances the clock by the playlist's refresh interval and waits for the refresh.
Bytes are those over the wire (Chrome DevTools Protocol `Network.loadingFinished`
encodedDataLength: headers and compressed bodies), per request."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from catalog_http import machine, start_server, stop_server, wait_until_up  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEMO_POINT = "430623000000-CH1"  # 华容县政务服务中心, see openness/demo.py


class Wire:
    """Requests and bytes of one page, from the DevTools protocol."""

    def __init__(self, cdp) -> None:
        self.urls: dict[str, str] = {}
        self.bytes: dict[str, int] = {}
        self.external: list[str] = []
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _sent(self, event) -> None:
        url = event["request"]["url"]
        self.urls[event["requestId"]] = url
        parts = urlsplit(url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            self.external.append(url)

    def _finished(self, event) -> None:
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def snapshot(self) -> tuple[int, int]:
        return len(self.bytes), sum(self.bytes.values())


def prepare() -> None:
    subprocess.run([str(ROOT / ".venv/bin/yiciban"), "setup", "--demo", "--quiet"], check=True)


def playlist(base: str, point: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/v1/openness/screens/{point}/playlist") as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--point", default=DEMO_POINT, help="service point code")
    parser.add_argument("--cycles", type=int, default=30, help="playlist refresh cycles")
    parser.add_argument("--port", type=int, default=8772)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the bench database")
    if args.prepare:
        prepare()
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{args.port}"
    server = start_server(args.port, 1, 2)
    try:
        wait_until_up(base)
        first = playlist(base, args.point)
        refresh_ms = max(15, first["refresh_seconds"]) * 1000
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            page = context.new_page()
            wire = Wire(context.new_cdp_session(page))
            page.clock.install()
            page.goto(f"{base}/openness/screen/{args.point}/", wait_until="networkidle")
            page.wait_for_selector(".slide h1")
            first_requests, first_bytes = wire.snapshot()
            for _cycle in range(args.cycles):
                with page.expect_response(lambda r: "/playlist" in r.url) as response:
                    page.clock.run_for(refresh_ms)
                if response.value.status != 200:
                    raise SystemExit(f"playlist refresh answered {response.value.status}")
                page.wait_for_load_state("networkidle")
            shown = page.locator(".slide h1").inner_text()
            all_requests, all_bytes = wire.snapshot()
            browser.close()
    finally:
        stop_server(server)

    after_requests, after_bytes = all_requests - first_requests, all_bytes - first_bytes
    print(f"machine: {machine()}")
    print(
        f"screen {args.point}: {len(first['slides'])} slides, refresh every "
        f"{refresh_ms // 1000} s; last slide shown: {shown[:40]}"
    )
    print(f"first load        {first_requests:4d} requests {first_bytes / 1024:8.1f} KB")
    print(
        f"{args.cycles} refresh cycles {after_requests:4d} requests {after_bytes / 1024:8.1f} KB "
        f"({after_bytes / max(1, args.cycles) / 1024:.2f} KB per cycle, "
        f"{after_bytes / max(1, args.cycles) * 3_600_000 / refresh_ms / 1024:.1f} KB per hour)"
    )
    print(f"external requests {len(wire.external)} {wire.external[:5]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
