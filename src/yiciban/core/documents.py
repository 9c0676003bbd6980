"""Uploaded documents, stored content-addressed.

- Size: refused beyond a limit while reading, before anything is kept
  (YICIBAN["DOCUMENT_MAX_BYTES"], 20 MiB by default; callers may pass a smaller one).
- Type: found by sniffing the content (magic bytes; for ZIP containers, the entries that
  make an OFD, a DOCX or an XLSX). The file name and the browser's content type are never
  trusted: a PDF renamed to .png is a PDF, an executable renamed to .pdf is refused.
- Storage: the bytes are written once under MEDIA_ROOT/documents/ab/cd/<sha256>, by a
  hard link from a temporary file, so an existing file is never overwritten and two uploads
  of the same content share one copy. A file whose database row is rolled back stays on disk
  (it is addressed by content, so keeping it is harmless and a later upload reuses it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from . import audit
from .errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from .models import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
NAME_MAX_LENGTH = 200


@dataclass(frozen=True)
class Sniffed:
    format: str  # pdf, png, jpg, ofd, docx, xlsx, zip
    media_type: str


MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "ofd": "application/ofd",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
# What an item accepts when its material kind names no formats.
DEFAULT_FORMATS = ("pdf", "jpg", "png", "ofd")


def max_bytes_setting() -> int:
    return int(getattr(settings, "YICIBAN", {}).get("DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff(head: bytes, path: Path | None = None) -> Sniffed | None:
    """The format of a file from its first bytes (and, for ZIP containers, its entries)."""
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", MEDIA_TYPES["pdf"])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png", MEDIA_TYPES["png"])
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpg", MEDIA_TYPES["jpg"])
    if head.startswith(b"PK\x03\x04") and path is not None:
        return _sniff_zip(path)
    return None


def _sniff_zip(path: Path) -> Sniffed | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    # GB/T 33190: an OFD package has OFD.xml at its root.
    if "OFD.xml" in names:
        return Sniffed("ofd", MEDIA_TYPES["ofd"])
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return Sniffed("docx", MEDIA_TYPES["docx"])
        if any(n.startswith("xl/") for n in names):
            return Sniffed("xlsx", MEDIA_TYPES["xlsx"])
    return Sniffed("zip", MEDIA_TYPES["zip"])


def storage_path(sha256: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "documents" / sha256[:2] / sha256[2:4] / sha256


def _chunks(content: bytes | IO[bytes] | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(content, bytes | bytearray):
        for start in range(0, len(content), CHUNK):
            yield bytes(content[start : start + CHUNK])
        return
    chunks = getattr(content, "chunks", None)
    if callable(chunks):  # Django's UploadedFile
        yield from chunks(CHUNK)
        return
    read = getattr(content, "read", None)
    if callable(read):
        while block := read(CHUNK):
            yield block
        return
    yield from content


def _size_error(limit: int) -> ValidationFailed:
    return ValidationFailed.on_field(
        "file",
        "max_size",
        _("文件不能大于 %(mb)s MB") % {"mb": f"{limit / (1024 * 1024):g}"},
    )


def document_store(
    *,
    actor,
    content: bytes | IO[bytes],
    filename: str = "",
    max_bytes: int | None = None,
    allowed_formats: Iterable[str] | None = None,
) -> Document:
    """Keep an upload of `actor`. Raises ValidationFailed (field "file") when it is empty,
    too large or of a format not allowed; returns the actor's earlier upload of the same
    bytes when there is one."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录再上传文件"), code="login_required")
    limit = min(max_bytes or max_bytes_setting(), max_bytes_setting())
    allowed = tuple(allowed_formats) if allowed_formats else tuple(MEDIA_TYPES)
    directory = Path(settings.MEDIA_ROOT) / "documents"
    (directory / "tmp").mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    handle, temp_name = tempfile.mkstemp(dir=directory / "tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in _chunks(content):
                size += len(chunk)
                if size > limit:
                    raise _size_error(limit)
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed.on_field("file", "required", _("文件是空的"))
        sniffed = sniff(head, temp)
        if sniffed is None or sniffed.format not in allowed:
            raise ValidationFailed(
                _("文件类型不符合要求"),
                [
                    FieldError(
                        "file",
                        "format",
                        _("只接受 %(formats)s 格式的文件（按文件内容识别，不看扩展名）")
                        % {"formats": "、".join(f.upper() for f in allowed)},
                    )
                ],
            )
        sha256 = digest.hexdigest()
        final = storage_path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(temp, final)  # fails if present: a stored file is never replaced
            final.chmod(0o444)
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)

    existing = Document.objects.filter(uploaded_by=actor, sha256=sha256).first()
    if existing is not None:
        return existing
    name = os.path.basename((filename or "").replace("\\", "/"))[:NAME_MAX_LENGTH]
    try:
        with transaction.atomic():
            document = Document.objects.create(
                sha256=sha256,
                size=size,
                format=sniffed.format,
                media_type=sniffed.media_type,
                original_name=name,
                uploaded_by=actor,
            )
            audit.record(
                actor=actor,
                action="core.document_store",
                obj=document,
                changes={"sha256": sha256, "size": size, "format": sniffed.format},
            )
    except IntegrityError:  # the same person uploaded the same bytes at the same moment
        return Document.objects.get(uploaded_by=actor, sha256=sha256)
    return document


def document_open(document: Document) -> IO[bytes]:
    """The stored bytes of `document` (read-only)."""
    path = storage_path(document.sha256)
    if not path.exists():
        raise NotFound(_("文件内容不存在"), code="document_missing")
    return path.open("rb")


def document_verify(document: Document) -> bool:
    """Do the stored bytes still hash to the recorded SHA-256?"""
    digest = hashlib.sha256()
    with document_open(document) as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest() == document.sha256
