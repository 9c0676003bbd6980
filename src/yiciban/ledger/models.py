"""Tables of the verifiable log. Entries are appended inside the writers' transactions and
get their log index later, when an integration assigns indices, stores the new tree hashes
as tiles and signs a checkpoint — all in one transaction. Nothing here is ever updated by
the application except growing tiles and the one `LogState` row: an entry's index is a row
of its own (`EntryIndex`, inserted once), so numbering never rewrites the wide entry rows."""

from __future__ import annotations

import datetime as dt
import json
import secrets

from django.db import models
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .merkle import EMPTY_ROOT, leaf_hash

ENTRY_FORMAT_VERSION = 1


def format_time(value: dt.datetime) -> str:
    """UTC, microseconds, 'Z': 2025-03-01T02:03:04.000005Z (the entry's `time` member)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_document(*, kind: str, producer: str, time: str, payload_sha256: str) -> dict:
    return {
        "kind": kind,
        "payload_sha256": payload_sha256,
        "producer": producer,
        "time": time,
        "v": ENTRY_FORMAT_VERSION,
    }


def entry_time_sql(vendor: str) -> str:
    """SQL for `appended_at` as text that entry_time_from_db turns into the entry's `time`
    (raw queries over many entries skip the ORM's datetime conversion)."""
    if vendor == "postgresql":
        return """to_char(appended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    return "CAST(appended_at AS TEXT)"  # an expression: sqlite3 runs no datetime converter


def entry_time_from_db(vendor: str, text: str) -> str:
    return text if vendor == "postgresql" else sqlite_entry_time(text)


def sqlite_entry_time(text: str) -> str:
    """The entry `time` from appended_at as stored by SQLite: Django writes an aware datetime
    as naive UTC text, 'YYYY-MM-DD HH:MM:SS' with '.ffffff' unless the microseconds are 0."""
    if len(text) == 26 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}Z"
    if len(text) == 19 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}.000000Z"
    return format_time(parse_datetime(text).replace(tzinfo=dt.UTC))


_encode_string = json.encoder.encode_basestring  # RFC 8785 string escapes (see canonical.py)


def entry_leaf(*, kind: str, producer: str, time: str, payload_sha256: str) -> bytes:
    """canonical_bytes(entry_document(…)), written directly: the members are five known keys
    in sorted order, so only the strings need escaping (tests check it equals the careful
    writer). The integrator and the auditor run this for every entry."""
    return (
        f'{{"kind":{_encode_string(kind)},"payload_sha256":{_encode_string(payload_sha256)},'
        f'"producer":{_encode_string(producer)},"time":{_encode_string(time)},'
        f'"v":{ENTRY_FORMAT_VERSION}}}'
    ).encode()


def new_epoch() -> str:
    return secrets.token_hex(8)


class LogState(models.Model):
    """The one row (id 1) describing the integrated tree. Integrators lock it, so only one
    integration runs at a time."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(_("树大小"), default=0)
    root_hash = models.BinaryField(_("根哈希"), max_length=32, default=EMPTY_ROOT)
    integrated_at = models.DateTimeField(_("最近并入时间"), null=True, blank=True)
    # Random, set when the row is created: a process that caches immutable tree hashes
    # (selectors) starts afresh when it sees another epoch (a restored or recreated log).
    epoch = models.CharField(_("日志标识"), max_length=16, default=new_epoch, editable=False)

    class Meta:
        verbose_name = _("账本状态")
        verbose_name_plural = _("账本状态")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledger_logstate_single")]

    def __str__(self) -> str:
        return f"size={self.size}"


class Entry(models.Model):
    """One log entry. `seq` is given at append; `index` (the position in the tree) at
    integration, as an `EntryIndex` row. The leaf committed to the tree is the canonical JSON
    of {kind, payload_sha256, producer, time, v}; the payload itself stays here (not public)."""

    seq = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("类别"), max_length=64)
    producer = models.CharField(_("产生方"), max_length=128)
    appended_at = models.DateTimeField(_("写入时间"))
    payload_sha256 = models.CharField(_("内容哈希"), max_length=64)
    payload = models.JSONField(_("内容"), default=dict)

    class Meta:
        verbose_name = _("账本条目")
        verbose_name_plural = _("账本条目")

    def __str__(self) -> str:
        return f"#{self.index if self.index is not None else '-'} {self.kind}"

    @property
    def index(self) -> int | None:
        """The log index, None while the entry waits for integration."""
        position = getattr(self, "position", None)  # reverse one-to-one: absent until numbered
        return position.index if position is not None else None

    @property
    def time(self) -> str:
        return format_time(self.appended_at)

    def document(self) -> dict:
        return entry_document(
            kind=self.kind,
            producer=self.producer,
            time=self.time,
            payload_sha256=self.payload_sha256,
        )

    def leaf(self) -> bytes:
        return entry_leaf(
            kind=self.kind,
            producer=self.producer,
            time=self.time,
            payload_sha256=self.payload_sha256,
        )

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf())


class EntryIndex(models.Model):
    """The log index of an integrated entry: a narrow row inserted once by the integrator
    (on PostgreSQL, numbering by UPDATE of the entries would write a new version of every
    wide entry row and of its index entries). No foreign-key constraint: the integrator
    inserts 10,000 of these per batch, and `yiciban ledger verify` reports an index whose
    entry row is missing."""

    entry = models.OneToOneField(
        Entry,
        primary_key=True,
        db_column="seq",
        db_constraint=False,
        on_delete=models.CASCADE,  # ORM deletes only (tests, a recreated log)
        related_name="position",
    )
    index = models.BigIntegerField(_("日志序号"), unique=True, db_column="log_index")

    class Meta:
        verbose_name = _("条目序号")
        verbose_name_plural = _("条目序号")

    def __str__(self) -> str:
        return f"{self.entry_id} → #{self.index}"


class PendingSeq(models.Model):
    """The integrator's queue: the seq of every appended entry not yet integrated, inserted
    with the entry and deleted when the entry gets its `EntryIndex`."""

    seq = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("待并入条目")
        verbose_name_plural = _("待并入条目")

    def __str__(self) -> str:
        return str(self.seq)


class Tile(models.Model):
    """Tree hashes in the C2SP tlog-tiles layout: up to 256 hashes of height 8*level. The row
    grows until it is full (8192 bytes), then never changes."""

    level = models.PositiveSmallIntegerField(_("层"))
    index = models.BigIntegerField(_("序号"))
    hashes = models.BinaryField(_("哈希"))

    class Meta:
        verbose_name = _("瓦片")
        verbose_name_plural = _("瓦片")
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.level}/{self.index} ({len(self.hashes) // 32})"


class Checkpoint(models.Model):
    """Every signed checkpoint, in order. The newest is the log's current signed tree head."""

    size = models.BigIntegerField(_("树大小"))
    root_hash = models.BinaryField(_("根哈希"), max_length=32)
    note = models.TextField(_("签名检查点"))
    created_at = models.DateTimeField(_("签署时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("检查点")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint size={self.size}"


class LedgerAlarm(models.Model):
    """Raised when the integrator refuses to sign (a new tree inconsistent with the last
    checkpoint, tiles that do not fit, an unverifiable previous checkpoint)."""

    class Code(models.TextChoices):
        INCONSISTENT = "inconsistent", _("与上一检查点不一致")
        ROLLBACK = "rollback", _("树大小回退")
        TILES = "tiles", _("瓦片与树大小不符")
        CHECKPOINT = "checkpoint", _("上一检查点无法验证")

    raised_at = models.DateTimeField(_("时间"), auto_now_add=True)
    code = models.CharField(_("类型"), max_length=20, choices=Code.choices)
    message = models.TextField(_("说明"))
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("账本告警")
        verbose_name_plural = _("账本告警")
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
