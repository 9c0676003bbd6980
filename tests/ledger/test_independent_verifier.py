"""An independent verifier written from docs/ledger.md alone: it imports nothing from
yiciban.ledger, talks to the log only over HTTP, and checks signatures, entries, inclusion
and consistency proofs, tiles and entry bundles."""

import base64
import hashlib
import json
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

pytestmark = pytest.mark.django_db


class VerificationError(Exception):
    pass


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(leaf: bytes) -> bytes:  # §2.3
    return sha256(b"\x00" + leaf)


def node(left: bytes, right: bytes) -> bytes:  # §3
    return sha256(b"\x01" + left + right)


def canonical_entry(entry: dict) -> bytes:  # §2.2: ASCII keys, no floats
    assert set(entry) == {"kind", "payload_sha256", "producer", "time", "v"}
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def mth(hashes: list[bytes]) -> bytes:  # §3, from leaf hashes
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(m, n, h, proof, root):  # §3.1
    if m >= n:
        raise VerificationError("index")
    fn, sn, r = m, n - 1, h
    for p in proof:
        if sn == 0:
            raise VerificationError("long")
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise VerificationError("inclusion")


def verify_consistency(m, n, first_hash, second_hash, proof):  # §3.2
    if m == n:
        if proof or first_hash != second_hash:
            raise VerificationError("equal sizes")
        return
    if not proof:
        raise VerificationError("empty")
    proof = list(proof)
    if m & (m - 1) == 0:
        proof.insert(0, first_hash)
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise VerificationError("long")
        if fn % 2 == 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_hash or sr != second_hash:
        raise VerificationError("consistency")


def parse_verifier_key(vkey: str) -> tuple[str, bytes, bytes]:  # §4
    name, key_id, encoded = vkey.split("+", 2)
    raw = base64.b64decode(encoded)
    assert raw[0] == 1 and len(raw) == 33
    return name, bytes.fromhex(key_id), raw[1:]


def verify_checkpoint(text: str, vkey: str) -> tuple[int, bytes]:  # §4
    name, key_id, public = parse_verifier_key(vkey)
    assert sha256(name.encode() + b"\n\x01" + public)[:4] == key_id
    body, _, signatures = text.rpartition("\n\n")
    body += "\n"
    good = False
    for line in signatures.splitlines():
        assert line.startswith("\u2014 ")
        signer, encoded = line[2:].split(" ")
        raw = base64.b64decode(encoded)
        if signer != name or raw[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
        except InvalidSignature as exc:
            raise VerificationError("signature") from exc
        good = True
    if not good:
        raise VerificationError("no signature")
    origin, size, root, rest = body.split("\n", 3)
    assert origin == name and rest == ""
    return int(size), base64.b64decode(root)


def index_path(n: int) -> str:  # §5.2
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


class Client:
    def __init__(self, http):
        self.http = http

    def get(self, path, **params):
        response = self.http.get(path, params)
        assert response.status_code == 200, (path, response.content)
        return response

    def checkpoint(self, vkey):
        return verify_checkpoint(self.get("/api/v1/ledger/checkpoint").content.decode(), vkey)

    def entry_leaf_hash(self, index):
        body = self.get(f"/api/v1/ledger/entries/{index}").json()
        leaf = body["leaf"].encode()
        if canonical_entry(body["entry"]) != leaf:
            raise VerificationError("entry is not canonical")
        return leaf_hash(leaf)

    def inclusion(self, index, size):
        body = self.get("/api/v1/ledger/proofs/inclusion", index=index, tree_size=size).json()
        return [base64.b64decode(h) for h in body["hashes"]]

    def consistency(self, first, second):
        body = self.get("/api/v1/ledger/proofs/consistency", first=first, second=second).json()
        return [base64.b64decode(h) for h in body["hashes"]]

    def tile(self, level, n, width):
        suffix = "" if width == 256 else f".p/{width}"
        return self.get(f"/ledger/tile/{level}/{index_path(n)}{suffix}").content


def _grow(count, start):
    from yiciban.ledger.services import ledger_append_many, ledger_integrate

    ledger_append_many(
        entries=[
            {"kind": "sharing.read", "producer": "税务局", "payload": {"n": i, "名称": "记录"}}
            for i in range(start, start + count)
        ]
    )
    ledger_integrate()


def test_an_independent_verifier_checks_everything_over_http(client):
    http = Client(client)
    history = []
    vkey = None
    appended = 0
    for count in (3, 1, 252, 1, 60):
        _grow(count, appended)
        appended += count
        vkey = vkey or http.get("/api/v1/ledger/keys").json()["verifier_keys"][0]
        history.append(http.checkpoint(vkey))
    size, root = history[-1]
    assert size == 317

    # Every entry is included in the latest tree and in every earlier one that holds it.
    leaf_hashes = [http.entry_leaf_hash(i) for i in range(size)]
    for index in range(size):
        verify_inclusion(index, size, leaf_hashes[index], http.inclusion(index, size), root)
    for old_size, old_root in history[:-1]:
        for index in (0, old_size // 2, old_size - 1):
            proof = http.inclusion(index, old_size)
            verify_inclusion(index, old_size, leaf_hashes[index], proof, old_root)

    # The log only grew: each checkpoint is consistent with every later one.
    for i, (m, first_root) in enumerate(history):
        for n, second_root in history[i:]:
            verify_consistency(m, n, first_root, second_root, http.consistency(m, n))

    # The tiles and entry bundles give the same tree.
    level0 = http.tile(0, 0, 256) + http.tile(0, 1, size - 256)
    assert [level0[i : i + 32] for i in range(0, len(level0), 32)] == leaf_hashes
    assert http.tile(1, 0, 1) == mth(leaf_hashes[:256])
    assert mth(leaf_hashes) == root
    bundle = http.get(f"/ledger/tile/entries/{index_path(1)}.p/{size - 256}").content
    position, index = 0, 256
    while position < len(bundle):
        (length,) = struct.unpack(">H", bundle[position : position + 2])
        assert leaf_hash(bundle[position + 2 : position + 2 + length]) == leaf_hashes[index]
        position, index = position + 2 + length, index + 1
    assert index == size


def test_the_verifier_rejects_a_tampered_proof_and_a_foreign_key(client):
    http = Client(client)
    _grow(10, 0)
    vkey = http.get("/api/v1/ledger/keys").json()["verifier_keys"][0]
    size, root = http.checkpoint(vkey)
    proof = http.inclusion(3, size)
    proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    with pytest.raises(VerificationError):
        verify_inclusion(3, size, http.entry_leaf_hash(3), proof, root)
    name, _, _ = parse_verifier_key(vkey)
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    foreign_id = sha256(name.encode() + b"\n\x01" + raw)[:4].hex()
    encoded = base64.b64encode(bytes([1]) + raw).decode()
    foreign_vkey = f"{name}+{foreign_id}+{encoded}"
    with pytest.raises(VerificationError):
        http.checkpoint(foreign_vkey)
