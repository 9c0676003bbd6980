"""docs/api.md's walk-through, replayed: the demo data set is loaded, a live server is
started, and the shell blocks of the walk-through run with bash, curl and jq exactly as a
reader would run them — a full bundle case from submission to delivery."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from yiciban import demo_loader
from yiciban.cases.models import Case, CaseState

DOC = Path(settings.REPO_DIR) / "docs" / "api.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq"
    ),
]


def walkthrough_script() -> str:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 6, "the walk-through lost its shell blocks"
    return "\n".join(blocks)


def test_the_documented_walkthrough_runs_end_to_end(live_server):
    demo_loader.load()
    before = set(Case.objects.values_list("number", flat=True))
    result = subprocess.run(
        ["bash", "-c", walkthrough_script()],
        env={**os.environ, "BASE": live_server.url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    new = Case.objects.exclude(number__in=before)
    assert new.count() == 1  # the retried submission did not make a second case
    case = new.get()
    assert case.state == CaseState.DELIVERED
    assert case.outputs.count() == 4
    assert f"办件编号 {case.number}" in result.stdout
    assert "已出件" in result.stdout
