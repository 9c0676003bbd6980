"""core.responses.api_json writes the JSON value ninja's renderer writes, as UTF-8."""

import datetime as dt
import json
from collections import OrderedDict

from django.db import models
from ninja.renderers import JSONRenderer

from yiciban.core.responses import api_json


class _Level(models.IntegerChoices):
    HIGH = 1, "high"


class _State(models.TextChoices):
    VALID = "valid", "有效"


def test_the_answer_is_the_value_ninja_writes():
    data = {
        "level": _Level.HIGH,
        "state": _State.VALID,
        "ordered": OrderedDict(b=1, a=[_Level.HIGH]),
        "at": dt.datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=dt.UTC),
        "on": dt.date(2026, 1, 1),
        "pair": (1, True, None, 2.5),
        "名称": "华容县",
        3: "a non-string key",
    }
    response = api_json(None, data, status=201)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.content.decode()
    ninja = JSONRenderer().render(None, data, response_status=201)
    assert json.loads(body) == json.loads(ninja)
    assert json.loads(body)["level"] == 1 and json.loads(body)["at"] == "2026-01-01T01:02:03.456Z"
    assert "华容县" in body  # UTF-8, not \u escapes
