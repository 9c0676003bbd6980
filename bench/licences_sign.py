"""In-process cost of an e-licence signature: median µs to sign a licence's canonical JSON,
to verify that signature, and to verify a QR token offline (parse the JWS, find the key in
the JWKS, check the signature and the dates) — for Ed25519 (cryptography) and SM2 with SM3
(tongsuopy), with the same licence content and the same code the platform runs.

    .venv/bin/python bench/licences_sign.py --runs 2000

Keys are made fresh in a temporary instance folder; no database is touched. With
`--gmssl`, the pure-Python `gmssl` package (if importable, e.g. from a bench-only venv) is
measured on the same message for comparison; it is not a project dependency."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def median_us(action, runs: int) -> float:
    for _ in range(min(50, runs)):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        action()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def fake_licence(algorithm: str):
    department = SimpleNamespace(uscc="11431127MB1B02093X", name="蓝山县市场监督管理局")
    licence_type = SimpleNamespace(code="food_business_licence", name="食品经营许可证")
    return SimpleNamespace(
        number="JY431127202600000123",
        licence_type=licence_type,
        holder_kind="enterprise",
        holder_name="蓝山县湘粤皮具玩具有限公司",
        holder_identifier="91431127MA4LQ7T25H",
        issuing_department=department,
        issued_on=dt.date(2026, 3, 2),
        valid_from=dt.date(2026, 3, 2),
        valid_until=dt.date(2031, 3, 1),
        fields={
            "legal_representative": "雷建国",
            "premises": "蓝山县塔峰镇湘粤边界皮具玩具产业园3号厂房",
            "business_items": "热食类食品制售、冷食类食品制售",
        },
        version=1,
        signature="",
        signature_algorithm=algorithm,
        key_name="",
        key_id="",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--gmssl", action="store_true")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="licences-sign-")
    os.environ["YICIBAN_INSTANCE_DIR"] = instance
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance}/unused.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "yiciban.settings"
    import django

    django.setup()
    from django.conf import settings

    from yiciban.licences import signing, sm2

    print(f"machine: {machine()}; {args.runs} runs per row, median")
    print(f"{'algorithm':<10} {'sign µs':>10} {'verify µs':>10} {'token verify µs':>16}")
    today = dt.date(2026, 6, 1)
    results = {}
    for algorithm in signing.ALGORITHMS:
        settings.YICIBAN_LICENCE_KEY_ALGORITHMS = {"*": algorithm}
        licence = fake_licence(algorithm)
        signing.sign_licence(licence)  # creates the department's key
        message = signing.canonical_json(signing.licence_content(licence))
        signer = signing._signer(algorithm, licence.key_name)
        signature = signer.sign(message)
        public = signer.public_key
        assert public.verify(signature, message)
        token = signing.token_for(licence)
        jwks = signing.jwks()
        assert signing.verify_token(token, jwks, today=today).ok
        row = (
            median_us(lambda s=signer, m=message: s.sign(m), args.runs),
            median_us(lambda p=public, s=signature, m=message: p.verify(s, m), args.runs),
            median_us(lambda t=token, j=jwks: signing.verify_token(t, j, today=today), args.runs),
        )
        results[algorithm] = row
        print(f"{algorithm:<10} {row[0]:>10.1f} {row[1]:>10.1f} {row[2]:>16.1f}", flush=True)
    ratio = [results[sm2.ALGORITHM][i] / results[signing.ED25519][i] for i in range(3)]
    print("SM2 / Ed25519: " + " ".join(f"{r:.1f}x" for r in ratio))
    if args.gmssl:
        try:
            from gmssl import func
            from gmssl import sm2 as gm
        except ImportError:
            print("gmssl not importable here (run from a bench-only venv that has it)")
            return 0
        key = sm2.Signer("gm", sm2.ec.generate_private_key(sm2.ec.SM2()))
        private = key._private_key.private_numbers().private_value
        crypt = gm.CryptSM2(
            public_key=f"{key.public_key.x:064x}{key.public_key.y:064x}",
            private_key=f"{private:064x}",
            mode=1,
        )
        runs = max(20, args.runs // 50)
        gm_sig = crypt.sign_with_sm3(message, func.random_hex(64))
        print(
            f"gmssl (pure Python), {runs} runs: sign "
            f"{median_us(lambda: crypt.sign_with_sm3(message, func.random_hex(64)), runs):.0f} µs"
            f", verify {median_us(lambda: crypt.verify_with_sm3(gm_sig, message), runs):.0f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
