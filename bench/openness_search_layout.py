"""CPU per page of the base layout and the search page, best of N passes: `/healthz` (the
middleware only), an empty search page (the layout plus the search box), the home page and
the 20 bench queries as cache hits. On DATABASE_URL (prepared by
`bench/openness_search_http.py --prepare`); best-of is the steadier figure on a busy machine.

    export YICIBAN_INSTANCE_DIR=/tmp/inst-h5bench/http
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h5bench \\
        .venv/bin/python bench/openness_search_layout.py [--passes 7]"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")

from openness_search import QUERIES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=7)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL (and YICIBAN_INSTANCE_DIR) to the bench database")

    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    searches = [f"/openness/search/?q={quote(query)}" for query in QUERIES]
    for url in searches:  # warm up and fill the result cache
        assert client.get(url).status_code == 200
    for label, urls in [
        ("healthz", ["/healthz"] * 40),
        ("empty search page", ["/openness/search/"] * 40),
        ("home page", ["/"] * 40),
        ("search, cache hits", searches),
    ]:
        best = float("inf")
        for _ in range(args.passes):
            started = time.process_time()
            for url in urls:
                client.get(url)
            best = min(best, (time.process_time() - started) * 1000 / len(urls))
        print(f"{label:20s} cpu={best:.2f}ms/page (best of {args.passes} passes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
