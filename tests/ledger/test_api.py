import base64
import struct

import pytest

from yiciban.ledger import merkle
from yiciban.ledger.models import Entry
from yiciban.ledger.services import ledger_append, ledger_integrate

pytestmark = pytest.mark.django_db
API = "/api/v1/ledger"


@pytest.fixture
def log_of_300():
    for i in range(300):
        ledger_append(kind="case.event", producer="cases", payload={"n": i})
    ledger_integrate()
    # One more appended but not integrated: invisible until the next checkpoint.
    ledger_append(kind="case.event", producer="cases", payload={"n": 300})


def _problem(response, status, field=None, rule=None):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field:
        assert (body["errors"][0]["field"], body["errors"][0]["rule"]) == (field, rule)
    return body


def test_checkpoint_is_404_before_the_first_signature(client):
    _problem(client.get(f"{API}/checkpoint"), 404)
    _problem(client.get("/ledger/checkpoint"), 404)


def test_checkpoint_is_a_signed_note_in_plain_text(client, log_of_300):
    response = client.get(f"{API}/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    lines = response.content.decode().split("\n")
    assert lines[:2] == ["test.yiciban.example/ledger", "300"]
    assert lines[4].startswith("\u2014 test.yiciban.example/ledger ")
    assert client.get("/ledger/checkpoint").content == response.content


def test_keys_lists_verifier_keys(client, log_of_300):
    body = client.get(f"{API}/keys").json()
    assert body["origin"] == "test.yiciban.example/ledger"
    assert body["verifier_keys"][0].startswith("test.yiciban.example/ledger+")


def test_entry_with_leaf_and_leaf_hash(client, log_of_300):
    body = client.get(f"{API}/entries/299").json()
    assert body["index"] == 299
    assert body["entry"]["kind"] == "case.event"
    leaf = body["leaf"].encode()
    assert base64.b64decode(body["leaf_hash"]) == merkle.leaf_hash(leaf)


def test_entry_errors(client, log_of_300):
    _problem(client.get(f"{API}/entries/300"), 404)  # appended, not yet in a checkpoint
    _problem(client.get(f"{API}/entries/5000"), 404)
    _problem(client.get(f"{API}/entries/-1"), 422, "path.index", "greater_than_equal")
    _problem(client.get(f"{API}/entries/{2**70}"), 422)
    _problem(client.get(f"{API}/entries/abc"), 422)


def test_inclusion_proof(client, log_of_300):
    body = client.get(f"{API}/proofs/inclusion", {"index": 7, "tree_size": 200}).json()
    assert (body["index"], body["tree_size"]) == (7, 200)
    assert len(body["hashes"]) == 8
    default = client.get(f"{API}/proofs/inclusion", {"index": 7}).json()
    assert default["tree_size"] == 300


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"index": 300}, "index", "lt_tree_size"),
        ({"index": 10, "tree_size": 10}, "index", "lt_tree_size"),
        ({"index": 1, "tree_size": 301}, "tree_size", "max_checkpoint_size"),
        ({"index": -1}, "query.index", "greater_than_equal"),
        ({"index": 0, "tree_size": 0}, "query.tree_size", "greater_than_equal"),
        ({}, "query.index", "missing"),
        ({"index": "x"}, "query.index", "int_parsing"),
    ],
)
def test_inclusion_proof_errors(client, log_of_300, params, field, rule):
    _problem(client.get(f"{API}/proofs/inclusion", params), 422, field, rule)


def test_consistency_proof(client, log_of_300):
    body = client.get(f"{API}/proofs/consistency", {"first": 100, "second": 300}).json()
    assert (body["first"], body["second"]) == (100, 300)
    assert body["hashes"]
    same = client.get(f"{API}/proofs/consistency", {"first": 300}).json()
    assert same == {"first": 300, "second": 300, "hashes": []}


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"first": 0}, "query.first", "greater_than_equal"),
        ({"first": 20, "second": 10}, "first", "range"),
        ({"first": 1, "second": 301}, "second", "max_checkpoint_size"),
        ({"first": 301}, "first", "range"),
    ],
)
def test_consistency_proof_errors(client, log_of_300, params, field, rule):
    _problem(client.get(f"{API}/proofs/consistency", params), 422, field, rule)


def test_proofs_on_an_empty_log_are_refused(client):
    ledger_integrate()
    _problem(client.get(f"{API}/proofs/inclusion", {"index": 0}), 422, "index", "lt_tree_size")


def test_hash_tiles(client, log_of_300):
    full = client.get("/ledger/tile/0/000")
    assert full.status_code == 200
    assert full["Content-Type"] == "application/octet-stream"
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(full.content) == 8192
    leaf_hashes = [
        merkle.leaf_hash(e.leaf())
        for e in Entry.objects.filter(position__index__lt=256).order_by("position__index")
    ]
    assert full.content == b"".join(leaf_hashes)
    partial = client.get("/ledger/tile/0/001.p/44")
    assert partial.status_code == 200
    assert len(partial.content) == 44 * 32
    assert partial["Cache-Control"] == "public, max-age=300"
    narrower = client.get("/ledger/tile/0/001.p/10")
    assert narrower.content == partial.content[: 10 * 32]
    level1 = client.get("/ledger/tile/1/000.p/1")
    assert level1.content == merkle.root_from_leaves(leaf_hashes)


def test_entry_bundles(client, log_of_300):
    bundle = client.get("/ledger/tile/entries/000").content
    leaves = []
    while bundle:
        (length,) = struct.unpack(">H", bundle[:2])
        leaves.append(bundle[2 : 2 + length])
        bundle = bundle[2 + length :]
    assert len(leaves) == 256
    tile = client.get("/ledger/tile/0/000").content
    assert b"".join(merkle.leaf_hash(leaf) for leaf in leaves) == tile
    assert client.get("/ledger/tile/entries/001.p/44").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/ledger/tile/0/001",  # only partial so far
        "/ledger/tile/0/001.p/45",  # wider than the tree
        "/ledger/tile/0/002.p/1",
        "/ledger/tile/1/000",
        "/ledger/tile/2/000.p/1",
        "/ledger/tile/0/x000/001",  # non-canonical spelling
        "/ledger/tile/0/1",
        "/ledger/tile/0/000.p/256",
        "/ledger/tile/64/000",
        "/ledger/tile/01/000",
        "/ledger/tile/entries/001",
        "/ledger/tile/entries/001.p/45",
    ],
)
def test_missing_or_malformed_tiles_are_404(client, log_of_300, path):
    _problem(client.get(path), 404)


def test_tiles_refuse_writes(client, log_of_300):
    assert client.post("/ledger/tile/0/000").status_code == 405
    assert client.head("/ledger/tile/0/000").status_code == 200
