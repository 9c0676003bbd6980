"""Public proof API of the ledger (formats in docs/ledger.md). Hashes are standard base64."""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema
from pydantic import Field

from . import conf, selectors

router = Router(tags=["ledger"])

MAX_INDEX = 2**63 - 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class EntryOut(Schema):
    index: int
    leaf: str = Field(description="the entry's canonical JSON; its UTF-8 bytes are the leaf")
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || leaf)")
    entry: dict


class InclusionQuery(Schema):
    index: int = Field(ge=0, le=MAX_INDEX)
    tree_size: int | None = Field(default=None, ge=1, le=MAX_INDEX)


class InclusionOut(Schema):
    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyQuery(Schema):
    first: int = Field(ge=1, le=MAX_INDEX)
    second: int | None = Field(default=None, ge=1, le=MAX_INDEX)


class ConsistencyOut(Schema):
    first: int
    second: int
    hashes: list[str]


class KeysOut(Schema):
    origin: str
    verifier_keys: list[str]


@router.get(
    "/checkpoint",
    response={200: str},
    openapi_extra={"responses": {200: {"content": {"text/plain": {}}}}},
    summary="Latest signed checkpoint (C2SP tlog-checkpoint signed note)",
)
def checkpoint(request: HttpRequest):
    response = HttpResponse(selectors.checkpoint_note(), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@router.get("/keys", response=KeysOut, summary="Signed-note verifier keys of the log")
def verifier_keys(request: HttpRequest):
    return {"origin": conf.origin(), "verifier_keys": selectors.verifier_keys()}


@router.get("/entries/{index}", response=EntryOut, summary="One log entry and its leaf hash")
def entry(request: HttpRequest, index: int = Path(..., ge=0, le=MAX_INDEX)):
    view = selectors.entry_at(index)
    return {
        "index": view.index,
        "leaf": view.leaf.decode(),
        "leaf_hash": _b64(view.leaf_hash),
        "entry": view.document,
    }


@router.get("/proofs/inclusion", response=InclusionOut, summary="Inclusion proof (RFC 9162)")
def inclusion(request: HttpRequest, query: Query[InclusionQuery]):
    proof = selectors.inclusion_proof(index=query.index, tree_size=query.tree_size)
    return {
        "index": proof.index,
        "tree_size": proof.tree_size,
        "leaf_hash": _b64(proof.leaf_hash),
        "hashes": [_b64(h) for h in proof.hashes],
    }


@router.get("/proofs/consistency", response=ConsistencyOut, summary="Consistency proof")
def consistency(request: HttpRequest, query: Query[ConsistencyQuery]):
    proof = selectors.consistency_proof(first=query.first, second=query.second)
    return {
        "first": proof.first,
        "second": proof.second,
        "hashes": [_b64(h) for h in proof.hashes],
    }
