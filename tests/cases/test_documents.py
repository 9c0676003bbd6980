"""core.documents: uploads checked by content (not by name), limited in size, stored once
under their SHA-256 and never overwritten."""

import hashlib
import io
import zipfile

import pytest
from django.contrib.auth import get_user_model

from yiciban.core.documents import (
    document_open,
    document_store,
    document_verify,
    sniff,
    storage_path,
)
from yiciban.core.errors import PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent, Document

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="x-Pass-2021")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", password="x-Pass-2021")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "png"),
        (JPEG, "jpg"),
        (_zip(["OFD.xml", "Doc_0/Document.xml"]), "ofd"),
        (_zip(["[Content_Types].xml", "word/document.xml"]), "docx"),
        (_zip(["[Content_Types].xml", "xl/workbook.xml"]), "xlsx"),
        (_zip(["readme.txt"]), "zip"),
    ],
)
def test_formats_are_sniffed_from_the_bytes(alice, content, expected):
    document = document_store(actor=alice, content=content, filename="whatever.exe")
    assert document.format == expected
    assert document.original_name == "whatever.exe"


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 windows executable", b"<html><script>alert(1)</script>", b"PK\x03\x04broken"],
)
def test_unknown_or_fake_content_is_refused_whatever_its_name(alice, content):
    with pytest.raises(ValidationFailed) as exc:
        document_store(actor=alice, content=content, filename="scan.pdf")
    assert [(e.field, e.rule) for e in exc.value.errors] == [("file", "format")]
    assert not Document.objects.exists()


def test_allowed_formats_can_be_narrowed(alice):
    with pytest.raises(ValidationFailed):
        document_store(actor=alice, content=JPEG, allowed_formats=["pdf"])


def test_too_large_is_refused_while_reading(alice, settings):
    settings.YICIBAN = {**settings.YICIBAN, "DOCUMENT_MAX_BYTES": 1024}
    with pytest.raises(ValidationFailed) as exc:
        document_store(actor=alice, content=PDF + b"0" * 2000)
    assert exc.value.errors[0].rule == "max_size"
    with pytest.raises(ValidationFailed):
        document_store(actor=alice, content=PDF, max_bytes=10)
    stored = [p for p in (settings.MEDIA_ROOT / "documents").rglob("*") if p.is_file()]
    assert stored == []  # nothing kept of a refused upload


def test_empty_files_and_anonymous_uploads_are_refused(alice):
    with pytest.raises(ValidationFailed) as exc:
        document_store(actor=alice, content=b"")
    assert exc.value.errors[0].rule == "required"
    with pytest.raises(PermissionDenied):
        document_store(actor=None, content=PDF)


def test_stored_by_hash_deduplicated_and_never_overwritten(alice, bob):
    first = document_store(actor=alice, content=PDF, filename="a.pdf")
    again = document_store(actor=alice, content=PDF, filename="b.pdf")
    theirs = document_store(actor=bob, content=PDF, filename="c.pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    assert first.pk == again.pk  # the same person, the same bytes: one upload
    assert theirs.pk != first.pk and theirs.sha256 == first.sha256 == digest
    path = storage_path(digest)
    assert path.read_bytes() == PDF
    assert first.storage_name.endswith(f"{digest[:2]}/{digest[2:4]}/{digest}")
    assert not path.stat().st_mode & 0o222  # read-only on disk
    with document_open(theirs) as handle:
        assert handle.read() == PDF
    assert document_verify(first)
    assert AuditEvent.objects.filter(action="core.document_store").count() == 2


def test_a_file_object_is_read_in_chunks(alice):
    document = document_store(actor=alice, content=io.BytesIO(PDF * 5000), filename="x.pdf")
    assert document.size == len(PDF) * 5000


def test_sniff_needs_a_path_for_zip_containers():
    assert sniff(b"PK\x03\x04") is None
