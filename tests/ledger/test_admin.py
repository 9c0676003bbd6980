import pytest
from django.contrib.auth import get_user_model

from yiciban.ledger.services import ledger_append_many, ledger_integrate


@pytest.mark.django_db
def test_entry_list_shows_each_entrys_index_or_none_while_pending(client):
    client.force_login(get_user_model().objects.create_superuser("root", password=None))
    first = ledger_append_many(
        entries=[{"kind": "a.b", "producer": "p", "payload": {"i": i}} for i in range(3)]
    )
    ledger_integrate()
    pending = ledger_append_many(entries=[{"kind": "a.c", "producer": "p", "payload": {}}])
    page = client.get("/admin/ledger/entry/", {"o": "2"})  # ordered by the index column
    assert page.status_code == 200
    rows = [(row.seq, row.index) for row in page.context["cl"].result_list]
    assert sorted(rows, key=lambda r: r[0]) == [
        *((p.seq, i) for i, p in enumerate(first)),
        (pending[0].seq, None),
    ]
    assert client.post(f"/admin/ledger/entry/{first[0].seq}/delete/").status_code == 403
