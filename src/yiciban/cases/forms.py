"""Forms of the case pages.

`SchemaForm` renders the (merged) JSON Schema of an application as HTML inputs and reads the
posted values back into the form data the services validate. It covers the types the
catalogue's forms use — string (text, date, enum), number, integer, boolean and arrays of
enum values — and only *reads*: whether the data fits the schema is decided by
`services.case_submit`, whose field errors (`form.base.enterprise.name`) are put back next
to their inputs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import FieldError

from .models import DeliveryMethod, SuspensionKind

INPUT_PREFIX = "f"
INTEGER = re.compile(r"^[+-]?\d+$")
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
TRUE, FALSE = "true", "false"


def input_name(path: tuple[str, ...]) -> str:
    """The HTML name of a form field: `f:base:enterprise.name`."""
    return ":".join((INPUT_PREFIX, *path))


def error_key(path: tuple[str, ...]) -> str:
    """The service's name for the same field: `form.base.enterprise.name`."""
    return ".".join(("form", *path))


def _choices(prop: dict) -> list[tuple[Any, str]]:
    values = prop.get("enum")
    if values is None and isinstance(prop.get("oneOf"), list):
        options = [o for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
        return [(o["const"], str(o.get("title", o["const"]))) for o in options]
    labels = prop.get("x-enum-labels") or prop.get("x-enumNames") or []
    if isinstance(labels, dict):
        return [(v, str(labels.get(str(v), v))) for v in values or []]
    return [(v, str(labels[i]) if i < len(labels) else str(v)) for i, v in enumerate(values or [])]


@dataclass
class SchemaField:
    path: tuple[str, ...]
    title: str
    widget: str  # text, date, number, integer, boolean, select, multi
    required: bool
    description: str = ""
    choices: list[tuple[Any, str]] = field(default_factory=list)
    value: Any = None
    errors: list[str] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return input_name(self.path)

    @property
    def html_id(self) -> str:
        return "id_" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)

    @property
    def shown_value(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, bool):
            return TRUE if self.value else FALSE
        return str(self.value)

    @property
    def selected(self) -> set[str]:
        if isinstance(self.value, list):
            return {str(v) for v in self.value}
        return {self.shown_value} if self.value is not None else set()


@dataclass
class SchemaSection:
    key: str
    title: str
    fields: list[SchemaField]
    errors: list[str] = field(default_factory=list)


def _widget(prop: dict) -> str:
    kind = prop.get("type")
    if kind == "array":
        return "multi"
    if "enum" in prop or "oneOf" in prop:
        return "select"
    if kind == "string" and prop.get("format") == "date":
        return "date"
    if kind in ("number", "integer", "boolean"):
        return kind
    return "text"


def _attrs(prop: dict, widget: str) -> dict:
    attrs: dict[str, Any] = {}
    if widget == "text":
        if "maxLength" in prop:
            attrs["maxlength"] = prop["maxLength"]
        if "pattern" in prop:
            attrs["pattern"] = prop["pattern"].removeprefix("^").removesuffix("$")
    if widget in ("number", "integer"):
        attrs["step"] = "1" if widget == "integer" else "any"
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[attr] = prop[key]
    return attrs


def _is_leaf(prop: dict) -> bool:
    return prop.get("type") != "object" or "properties" not in prop


def _sections(schema: dict) -> list[tuple[str, str, dict, tuple[str, ...]]]:
    """(key, title, object schema, path) of every section. A merged bundle form is an object
    of sections (base, then one per item); a single item's form is one section itself."""
    properties = schema.get("properties", {})
    if properties and all(not _is_leaf(p) for p in properties.values() if isinstance(p, dict)):
        order = [s["key"] for s in schema.get("x-sections", []) if s.get("key") in properties]
        order += [k for k in properties if k not in order]
        return [(k, properties[k].get("title", k), properties[k], (k,)) for k in order]
    return [("", schema.get("title", ""), schema, ())] if properties else []


def _leaves(obj: dict, path: tuple[str, ...]):
    required = set(obj.get("required", []))
    for name, prop in obj.get("properties", {}).items():
        if not isinstance(prop, dict):
            continue
        if _is_leaf(prop):
            yield (*path, name), prop, name in required
        else:
            yield from _leaves(prop, (*path, name))


def _read_scalar(widget: str, text: str) -> Any:
    if widget == "boolean":
        return {TRUE: True, FALSE: False}.get(text, text)
    if widget == "integer" and INTEGER.match(text):
        return int(text)
    if widget == "number" and DECIMAL.match(text):
        number = float(text)
        return int(number) if number.is_integer() and INTEGER.match(text) else number
    return text  # not a number: the schema check names the field and the rule


def _typed_choice(choices: list[tuple[Any, str]], text: str) -> Any:
    for value, _label in choices:
        if str(value) == text:
            return value
    return text


class SchemaForm:
    """The inputs of an application form built from its JSON Schema."""

    def __init__(self, schema: dict, data: QueryDict | None = None, initial: dict | None = None):
        self.schema = schema or {}
        self.is_bound = data is not None
        self.sections: list[SchemaSection] = []
        self.other_errors: list[str] = []
        self._by_key: dict[str, SchemaField] = {}
        for key, title, obj, path in _sections(self.schema):
            section = SchemaSection(key=key, title=str(title), fields=[])
            for field_path, prop, required in _leaves(obj, path):
                widget = _widget(prop)
                schema_field = SchemaField(
                    path=field_path,
                    title=str(prop.get("title", field_path[-1])),
                    description=str(prop.get("description", "")),
                    widget=widget,
                    required=required,
                    choices=_choices(prop.get("items", {}) if widget == "multi" else prop),
                    attrs=_attrs(prop, widget),
                )
                schema_field.value = self._value(schema_field, data, initial or {})
                section.fields.append(schema_field)
                self._by_key[error_key(field_path)] = schema_field
            self.sections.append(section)

    @staticmethod
    def _value(schema_field: SchemaField, data: QueryDict | None, initial: dict) -> Any:
        if data is None:
            value: Any = initial
            for part in schema_field.path:
                value = value.get(part) if isinstance(value, dict) else None
            return value
        name = schema_field.name
        if schema_field.widget == "multi":
            if name not in data:
                return None
            return [_typed_choice(schema_field.choices, v) for v in data.getlist(name) if v != ""]
        text = (data.get(name) or "").strip()
        if text == "":
            return None
        if schema_field.widget == "select":
            return _typed_choice(schema_field.choices, text)
        return _read_scalar(schema_field.widget, text)

    @property
    def fields(self) -> list[SchemaField]:
        return [f for s in self.sections for f in s.fields]

    def form_data(self) -> dict:
        """The posted values nested as the schema nests them; empty inputs are left out."""
        data: dict = {}
        for schema_field in self.fields:
            if schema_field.value is None:
                continue
            target = data
            for part in schema_field.path[:-1]:
                target = target.setdefault(part, {})
            target[schema_field.path[-1]] = schema_field.value
        return data

    def add_errors(self, errors: list[FieldError]) -> list[FieldError]:
        """Puts the errors on `form.…` next to their inputs; returns the others."""
        rest = []
        for error in errors:
            target = self._by_key.get(error.field)
            if target is not None:
                target.errors.append(str(error.message))
            elif error.field.startswith("form"):
                self.other_errors.append(str(error.message))
            else:
                rest.append(error)
        return rest


# --- counter and back-office forms -----------------------------------------------------


class ApplicantSearchForm(forms.Form):
    """By POST only: a resident ID never travels in a URL (logs, history, referrers)."""

    id_number = forms.CharField(label=_("身份证号"), required=False, max_length=18, strip=True)
    uscc = forms.CharField(label=_("统一社会信用代码"), required=False, max_length=18, strip=True)

    def clean(self):
        data = super().clean()
        if bool(data.get("id_number")) == bool(data.get("uscc")):
            raise forms.ValidationError(_("请输入身份证号或统一社会信用代码（二选一）"))
        return data


class AssistedApplicantForm(forms.Form):
    """Whom a counter clerk files an application for."""

    applicant_id_number = forms.CharField(
        label=_("申请人身份证号"), required=False, max_length=18, strip=True
    )
    enterprise_uscc = forms.CharField(
        label=_("企业统一社会信用代码"), required=False, max_length=18, strip=True
    )
    green_channel = forms.BooleanField(label=_("绿色通道"), required=False)
    green_channel_reason = forms.CharField(
        label=_("绿色通道理由"), required=False, max_length=200, strip=True
    )


class SupplementNoticeForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("需补正的材料"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason = forms.CharField(
        label=_("补正要求"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("对每份所选材料的要求，例如：须加盖公章、须为清晰彩色扫描件"),
    )
    message = forms.CharField(
        label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = [(m["kind"], m["name"]) for m in materials]

    def missing(self) -> list[dict]:
        reason = self.cleaned_data["reason"]
        return [{"kind": kind, "reason": reason} for kind in self.cleaned_data["kinds"]]


class RefuseAcceptanceForm(forms.Form):
    reason = forms.CharField(label=_("不予受理理由"), max_length=2000, widget=forms.Textarea)
    legal_basis = forms.CharField(label=_("法律依据"), required=False, max_length=2000)


class DeliverForm(forms.Form):
    method = forms.ChoiceField(label=_("出件方式"), choices=DeliveryMethod.choices)
    recipient = forms.CharField(label=_("领取人或收件信息"), required=False, max_length=200)


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("意见"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(CommentForm):
    opinion = forms.ChoiceField(
        label=_("审查意见"), choices=[("approve", _("同意")), ("refuse", _("不同意"))]
    )


class RefuseForm(forms.Form):
    reasons = forms.CharField(label=_("不予办理理由"), max_length=2000, widget=forms.Textarea)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=2000)
    appeal_info = forms.CharField(label=_("救济途径"), required=False, max_length=2000)


class SuspendForm(forms.Form):
    kind = forms.ChoiceField(label=_("中止类型"), choices=SuspensionKind.choices)
    reason = forms.CharField(label=_("理由"), max_length=2000)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("延长工作日"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("理由"), max_length=2000)


class InspectionForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("核查事项"), widget=forms.CheckboxSelectMultiple, required=True
    )
    scheduled_for = forms.DateTimeField(
        label=_("核查时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(label=_("安排说明"), required=False, max_length=2000)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(str(i["id"]), i["name"]) for i in items]


class InspectionRecordForm(forms.Form):
    result = forms.ChoiceField(
        label=_("核查结果"),
        choices=[
            ("passed", _("通过")),
            ("rectification", _("限期整改")),
            ("failed", _("不通过")),
        ],
    )
    findings = forms.CharField(label=_("核查情况"), max_length=2000, widget=forms.Textarea)
    rectification_notice = forms.CharField(label=_("整改通知"), required=False, max_length=2000)
    rectification_days = forms.IntegerField(
        label=_("整改期限（工作日）"), required=False, min_value=1, max_value=60
    )
