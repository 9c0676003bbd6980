"""The catalogue exchange format (docs/catalog-format.md): one document holding themes,
data elements, material kinds, items with all their versions and bundles with theirs.

It travels as JSON, YAML or an Excel workbook with one sheet per table. Reading turns any of
them into the same document plus, for Excel, a map from document paths to cells, so every
error names the sheet, row and column (or the JSON path) and the rule broken. Writing is
deterministic: export → import → export gives the same bytes."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from yiciban.core.errors import FieldError, ValidationFailed

from .content import (
    ITEM_VERSION_DEFAULTS,
    MATERIAL_DEFAULTS,
    MEMBER_DEFAULTS,
    bundle_version_content,
    element_content,
    item_version_content,
    material_kind_content,
    theme_content,
)
from .models import (
    ApprovalMode,
    Audience,
    Bundle,
    BundleMember,
    BundleVersion,
    Channel,
    DataElement,
    DayUnit,
    Item,
    ItemMaterial,
    ItemType,
    ItemVersion,
    Level,
    MaterialKind,
    MaterialSource,
    MemberRole,
    Requirement,
    RiskTier,
    Theme,
    VersionStatus,
)
from .questionnaire import normalize_question

FORMAT_NAME = "yiciban-catalog"
FORMAT_VERSION = 1
FORMATS = ("json", "yaml", "xlsx")

# ---------------------------------------------------------------------------------------
# the document's structure, as a JSON Schema (shape only; meaning is checked afterwards)

_STR = {"type": "string"}
_STR_LIST = {"type": "array", "items": {"type": "string"}}
_DATE = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}


def _obj(required: list[str], props: dict) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


_ITEM_VERSION = _obj(
    ["number", "status", "name", "item_type", "approval_mode", "risk_tier", "process_template"],
    {
        "number": {"type": "integer", "minimum": 1},
        "status": _STR,
        "effective_from": _DATE,
        "effective_until": _DATE,
        "name": _STR,
        "short_name": _STR,
        "item_type": _STR,
        "audience": _STR,
        "legal_basis": _STR,
        "conditions": _STR_LIST,
        "legal_limit": _NULLABLE_INT,
        "legal_limit_unit": _STR,
        "promised_limit": {"type": "integer"},
        "promised_limit_unit": _STR,
        "fees": {"type": "array", "items": {"type": "object"}},
        "channels": _STR_LIST,
        "levels": _STR_LIST,
        "visits_required": {"type": "integer"},
        "approval_mode": _STR,
        "risk_tier": _STR,
        "process_template": _STR,
        "output_name": _STR,
        "output_licence_type": _STR,
        "keywords": _STR,
        "form_schema": {"type": "object"},
        "materials": {
            "type": "array",
            "items": _obj(
                ["kind"],
                {
                    "kind": _STR,
                    "requirement": _STR,
                    "deferrable": {"type": "boolean"},
                    "copies": _STR,
                    "note": _STR,
                },
            ),
        },
    },
)
_BUNDLE_VERSION = _obj(
    ["number", "status", "name"],
    {
        "number": {"type": "integer", "minimum": 1},
        "status": _STR,
        "effective_from": _DATE,
        "effective_until": _DATE,
        "name": _STR,
        "summary": _STR,
        "promised_limit": _NULLABLE_INT,
        "questionnaire": {"type": "array"},
        "members": {
            "type": "array",
            "items": _obj(
                ["item"],
                {
                    "item": _STR,
                    "role": _STR,
                    "rule": {},
                    "reason": _STR,
                    "depends_on": _STR_LIST,
                },
            ),
        },
    },
)
DOCUMENT_SCHEMA = _obj(
    ["format", "format_version"],
    {
        "format": {"const": FORMAT_NAME},
        "format_version": {"const": FORMAT_VERSION},
        "themes": {
            "type": "array",
            "items": _obj(
                ["code", "name", "audience"],
                {
                    "code": _STR,
                    "name": _STR,
                    "audience": _STR,
                    "order": {"type": "integer"},
                    "description": _STR,
                },
            ),
        },
        "data_elements": {
            "type": "array",
            "items": _obj(
                ["code", "label", "schema"],
                {
                    "code": _STR,
                    "label": _STR,
                    "schema": {"type": "object"},
                    "description": _STR,
                    "personal": {"type": "boolean"},
                },
            ),
        },
        "material_kinds": {
            "type": "array",
            "items": _obj(
                ["code", "name", "source"],
                {
                    "code": _STR,
                    "name": _STR,
                    "source": _STR,
                    "data_category": _STR,
                    "formats": _STR_LIST,
                    "max_size_mb": {"type": "integer"},
                    "blank_form_url": _STR,
                    "sample_url": _STR,
                    "description": _STR,
                },
            ),
        },
        "items": {
            "type": "array",
            "items": _obj(
                ["implementation_code", "basic_code", "department", "versions"],
                {
                    "implementation_code": _STR,
                    "basic_code": _STR,
                    "business_item_code": _STR,
                    "department": _STR,
                    "themes": _STR_LIST,
                    "service_points": _STR_LIST,
                    "cross_province_partners": {
                        "type": "array",
                        "items": _obj(["code", "name"], {"code": _STR, "name": _STR}),
                    },
                    "versions": {"type": "array", "minItems": 1, "items": _ITEM_VERSION},
                },
            ),
        },
        "bundles": {
            "type": "array",
            "items": _obj(
                ["code", "region", "audience", "versions"],
                {
                    "code": _STR,
                    "region": _STR,
                    "audience": _STR,
                    "themes": _STR_LIST,
                    "versions": {"type": "array", "minItems": 1, "items": _BUNDLE_VERSION},
                },
            ),
        },
    },
)
_document_validator = Draft202012Validator(DOCUMENT_SCHEMA)


def json_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


# ---------------------------------------------------------------------------------------
# errors located in the source file


@dataclass(frozen=True)
class Cell:
    sheet: str
    row: int
    column: str | None = None  # letter
    header: str = ""


@dataclass
class Source:
    """Where the parts of a document came from (Excel); empty for JSON and YAML."""

    cells: dict[str, Cell] = field(default_factory=dict)

    def locate(self, path: str) -> Cell | None:
        probe = path
        while probe:
            if probe in self.cells:
                return self.cells[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return None

    def error(self, path: str, rule: str, message: str) -> FieldError:
        cell = self.locate(path)
        if cell is None:
            return FieldError(path, rule, message)
        if cell.column:
            where = _("工作表“%(s)s”第%(r)s行%(c)s列（%(h)s）") % {
                "s": cell.sheet,
                "r": cell.row,
                "c": cell.column,
                "h": cell.header,
            }
            return FieldError(f"{cell.sheet}!{cell.column}{cell.row}", rule, f"{where}：{message}")
        where = _("工作表“%(s)s”第%(r)s行") % {"s": cell.sheet, "r": cell.row}
        return FieldError(f"{cell.sheet}!{cell.row}", rule, f"{where}：{message}")


def _fail(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(
            _("导入失败，共 %(n)s 处错误，未导入任何内容；第一处：%(m)s")
            % {"n": len(errors), "m": errors[0].message},
            errors,
        )


# ---------------------------------------------------------------------------------------
# JSON and YAML


def dumps(document: dict, fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "yaml":
        return yaml.safe_dump(
            document, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
        ).encode()
    if fmt == "xlsx":
        return workbook_bytes(document)
    raise ValueError(fmt)


def _dates_to_text(value: Any) -> Any:
    # YAML turns unquoted 2021-06-01 into a date; the format keeps dates as ISO text.
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    return value


def loads(data: bytes, fmt: str) -> tuple[dict, Source]:
    """Parse a file into a document. Raises ValidationFailed naming what cannot be read."""
    if fmt == "xlsx":
        return read_workbook(data)
    try:
        text = data.decode("utf-8-sig")
        document = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        rule = "bad_json" if fmt == "json" else "bad_yaml"
        raise ValidationFailed.on_field(
            "file", rule, _("文件无法解析：%(e)s") % {"e": exc}
        ) from None
    return _dates_to_text(document), Source()


def format_for(filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower()
    fmt = {"yml": "yaml", "xlsm": "xlsx"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise ValidationFailed.on_field(
            "file", "format", _("只支持 .json、.yaml、.xlsx 文件：%(f)s") % {"f": filename}
        )
    return fmt


# ---------------------------------------------------------------------------------------
# Excel: one sheet per table


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "str"  # str int bool json list lines date enum enum_list pairs choices
    choices: Any = None  # a TextChoices class for enum / enum_list
    default: Any = ""
    required: bool = False  # the sheet is refused without this column


@dataclass(frozen=True)
class Sheet:
    name: str
    table: str
    columns: tuple[Column, ...]


SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "主题",
        "themes",
        (
            Column("code", "编码", required=True),
            Column("name", "名称", required=True),
            Column("audience", "服务对象", "enum", Audience, required=True),
            Column("order", "排序", "int", default=0),
            Column("description", "说明"),
        ),
    ),
    Sheet(
        "数据元",
        "data_elements",
        (
            Column("code", "编码", required=True),
            Column("label", "名称", required=True),
            Column("schema", "JSON Schema", "json", default=None, required=True),
            Column("description", "说明"),
            Column("personal", "个人信息", "bool", default=False),
        ),
    ),
    Sheet(
        "材料目录",
        "material_kinds",
        (
            Column("code", "编码", required=True),
            Column("name", "名称", required=True),
            Column("source", "来源", "enum", MaterialSource, required=True),
            Column("data_category", "共享数据类别"),
            Column("formats", "接收格式", "list", default=[]),
            Column("max_size_mb", "大小上限MB", "int", default=10),
            Column("blank_form_url", "空白表格"),
            Column("sample_url", "示例样表"),
            Column("description", "说明"),
        ),
    ),
    Sheet(
        "事项",
        "items",
        (
            Column("implementation_code", "实施编码", required=True),
            Column("basic_code", "基本编码", required=True),
            Column("business_item_code", "业务办理项编码", default="000"),
            Column("department", "实施部门（区划代码:部门类别）", required=True),
            Column("themes", "主题", "list", default=[]),
            Column("service_points", "可办网点", "list", default=[]),
            Column("cross_province_partners", "跨省通办合作地区", "pairs", default=[]),
        ),
    ),
    Sheet(
        "事项版本",
        "item_versions",
        (
            Column("implementation_code", "实施编码", required=True),
            Column("number", "版本号", "int", default=None, required=True),
            Column("status", "状态", "enum", VersionStatus, required=True),
            Column("effective_from", "生效日期", "date", default=None),
            Column("effective_until", "失效日期", "date", default=None),
            Column("name", "事项名称", required=True),
            Column("short_name", "简称"),
            Column("item_type", "事项类型", "enum", ItemType, required=True),
            Column("audience", "服务对象", "enum", Audience),
            Column("legal_basis", "设定依据"),
            Column("conditions", "受理条件（每行一条）", "lines", default=[]),
            Column("legal_limit", "法定时限", "int", default=None),
            Column("legal_limit_unit", "法定时限单位", "enum", DayUnit),
            Column("promised_limit", "承诺时限", "int", default=0),
            Column("promised_limit_unit", "承诺时限单位", "enum", DayUnit),
            Column("fees", "收费（JSON）", "json", default=[]),
            Column("channels", "办理渠道", "enum_list", Channel, default=[]),
            Column("levels", "办理层级", "enum_list", Level, default=[]),
            Column("visits_required", "到现场次数", "int", default=1),
            Column("approval_mode", "审批方式", "enum", ApprovalMode, required=True),
            Column("risk_tier", "风险等级", "enum", RiskTier, required=True),
            Column("process_template", "流程模板", required=True),
            Column("output_name", "办理结果"),
            Column("output_licence_type", "证照类型编码"),
            Column("keywords", "检索关键词"),
            Column("form_schema", "申请表（JSON Schema）", "json", default={}),
        ),
    ),
    Sheet(
        "申请材料",
        "item_materials",
        (
            Column("implementation_code", "实施编码", required=True),
            Column("version", "版本号", "int", default=None, required=True),
            Column("kind", "材料编码", required=True),
            Column("requirement", "必要性", "enum", Requirement),
            Column("deferrable", "可容缺", "bool", default=False),
            Column("copies", "份数与形式"),
            Column("note", "备注"),
        ),
    ),
    Sheet(
        "一件事",
        "bundles",
        (
            Column("code", "编码", required=True),
            Column("region", "实施区域代码", required=True),
            Column("audience", "服务对象", "enum", Audience, required=True),
            Column("themes", "主题", "list", default=[]),
        ),
    ),
    Sheet(
        "一件事版本",
        "bundle_versions",
        (
            Column("bundle", "一件事编码", required=True),
            Column("number", "版本号", "int", default=None, required=True),
            Column("status", "状态", "enum", VersionStatus, required=True),
            Column("effective_from", "生效日期", "date", default=None),
            Column("effective_until", "失效日期", "date", default=None),
            Column("name", "名称", required=True),
            Column("summary", "简介"),
            Column("promised_limit", "承诺时限（工作日）", "int", default=None),
        ),
    ),
    Sheet(
        "导办问题",
        "questions",
        (
            Column("bundle", "一件事编码", required=True),
            Column("version", "版本号", "int", default=None, required=True),
            Column("code", "问题编码", required=True),
            Column("label", "问题", required=True),
            Column("type", "题型", required=True),
            Column("choices", "选项（每行 值=文字）", "choices", default=[]),
            Column("help_text", "说明"),
            Column("required", "必答", "bool", default=False),
            Column("show_if", "显示条件（JsonLogic）", "json", default=None),
            Column("minimum", "最小值", "number", default=None),
            Column("maximum", "最大值", "number", default=None),
        ),
    ),
    Sheet(
        "一件事事项",
        "bundle_members",
        (
            Column("bundle", "一件事编码", required=True),
            Column("version", "版本号", "int", default=None, required=True),
            Column("item", "实施编码", required=True),
            Column("role", "角色", "enum", MemberRole),
            Column("rule", "适用规则（JsonLogic）", "json", default=None),
            Column("reason", "适用理由"),
            Column("depends_on", "前置事项", "list", default=[]),
        ),
    ),
)
README_SHEET = "说明"
HEADER_KEY = re.compile(r"\[([a-z_]+)\]\s*$")
LIST_SPLIT = re.compile(r"[,，、\n]+")


def _header(column: Column) -> str:
    return f"{column.header} [{column.key}]"


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _to_cell(column: Column, value: Any) -> Any:
    kind = column.kind
    if value is None or value == "":
        return None
    if kind == "bool":
        return "是" if value else "否"
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=False)
    if kind == "list":
        return ",".join(value) or None
    if kind == "lines":
        return "\n".join(value) or None
    if kind == "enum":
        return str(column.choices(value).label) if value in column.choices.values else value
    if kind == "enum_list":
        return (
            ",".join(
                str(column.choices(v).label) if v in column.choices.values else v for v in value
            )
            or None
        )
    if kind == "pairs":
        return "\n".join(f"{p['code']}={p['name']}" for p in value) or None
    if kind == "choices":
        return "\n".join(f"{c['value']}={c['label']}" for c in value) or None
    return value


def _rows(document: dict) -> dict[str, list[dict]]:
    """The document flattened into the tables of the workbook."""
    rows: dict[str, list[dict]] = {sheet.table: [] for sheet in SHEETS}
    rows["themes"] = list(document.get("themes", []))
    rows["data_elements"] = list(document.get("data_elements", []))
    rows["material_kinds"] = list(document.get("material_kinds", []))
    for item in document.get("items", []):
        code = item["implementation_code"]
        rows["items"].append({k: v for k, v in item.items() if k != "versions"})
        for version in item["versions"]:
            rows["item_versions"].append(
                {
                    "implementation_code": code,
                    **{k: v for k, v in version.items() if k != "materials"},
                }
            )
            for material in version.get("materials", []):
                rows["item_materials"].append(
                    {"implementation_code": code, "version": version["number"], **material}
                )
    for bundle in document.get("bundles", []):
        code = bundle["code"]
        rows["bundles"].append({k: v for k, v in bundle.items() if k != "versions"})
        for version in bundle["versions"]:
            rows["bundle_versions"].append(
                {
                    "bundle": code,
                    **{k: v for k, v in version.items() if k not in ("questionnaire", "members")},
                }
            )
            for question in version.get("questionnaire", []):
                rows["questions"].append({"bundle": code, "version": version["number"], **question})
            for member in version.get("members", []):
                rows["bundle_members"].append(
                    {"bundle": code, "version": version["number"], **member}
                )
    return rows


def workbook_bytes(document: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    workbook = Workbook()
    readme = workbook.active
    readme.title = README_SHEET
    readme.append(["format", document.get("format", FORMAT_NAME)])
    readme.append(["format_version", document.get("format_version", FORMAT_VERSION)])
    readme.append([])
    readme.append(
        [_("本工作簿为一次办事项清单交换格式，每张工作表对应一张表，列名方括号内为字段编码。")]
    )
    readme.append(
        [_("格式说明见 docs/catalog-format.md。导入时任何一处错误都会使整个文件不被导入。")]
    )
    readme.column_dimensions["A"].width = 24
    readme.column_dimensions["B"].width = 24
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    tables = _rows(document)
    for sheet in SHEETS:
        ws = workbook.create_sheet(sheet.name)
        ws.append([_header(c) for c in sheet.columns])
        for cell in ws[1]:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in tables[sheet.table]:
            ws.append([_to_cell(c, row.get(c.key)) for c in sheet.columns])
        for index, column in enumerate(sheet.columns, start=1):
            width = 40 if column.kind in ("json", "lines") else 18
            ws.column_dimensions[_letter(index)].width = width
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class _CellError(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule, self.message = rule, message


def _from_cell(column: Column, value: Any) -> Any:
    kind = column.kind
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        default = column.default
        return (
            list(default)
            if isinstance(default, list)
            else (dict(default) if isinstance(default, dict) else default)
        )
    if kind == "str":
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a code typed as a number
        return value.isoformat()[:10] if isinstance(value, datetime | date) else str(value)
    if kind in ("int", "number"):
        if isinstance(value, bool):
            raise _CellError("type", _("须为数字"))
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return (
                int(value)
                if kind == "int" and value.is_integer()
                else (value if kind == "number" else _raise_type())
            )
        try:
            return int(value) if kind == "int" else float(value)
        except (TypeError, ValueError):
            raise _CellError("type", _("须为整数") if kind == "int" else _("须为数字")) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("是", "true", "1", "y", "yes"):
            return True
        if text in ("否", "false", "0", "n", "no"):
            return False
        raise _CellError("type", _("须填“是”或“否”"))
    if kind == "json":
        try:
            return json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError as exc:
            raise _CellError("bad_json", _("不是有效的 JSON：%(e)s") % {"e": exc}) from None
    if kind == "list":
        return [v.strip() for v in LIST_SPLIT.split(str(value)) if v.strip()]
    if kind == "lines":
        return [v.strip() for v in str(value).splitlines() if v.strip()]
    if kind == "date":
        if isinstance(value, datetime | date):
            return value.isoformat()[:10]
        return str(value)
    if kind == "enum":
        return _enum_value(column.choices, str(value))
    if kind == "enum_list":
        return [
            _enum_value(column.choices, v.strip())
            for v in LIST_SPLIT.split(str(value))
            if v.strip()
        ]
    if kind in ("pairs", "choices"):
        out = []
        for line in str(value).splitlines():
            if not line.strip():
                continue
            if "=" not in line:
                raise _CellError("pattern", _("每行须为“值=文字”：%(l)s") % {"l": line})
            left, right = line.split("=", 1)
            key = "code" if kind == "pairs" else "value"
            name = "name" if kind == "pairs" else "label"
            out.append({key: left.strip(), name: right.strip()})
        return out
    return value


def _raise_type():
    raise _CellError("type", _("须为整数"))


def _enum_value(choices, text: str) -> str:
    if text in choices.values:
        return text
    by_label = {str(label): value for value, label in choices.choices}
    return by_label.get(text, text)  # an unknown value is reported by the checks, in place


def read_workbook(data: bytes) -> tuple[dict, Source]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationFailed.on_field(
            "file",
            "bad_excel",
            _("不是有效的 Excel（.xlsx）文件：%(e)s") % {"e": exc.__class__.__name__},
        ) from None
    errors: list[FieldError] = []
    source = Source()
    tables: dict[str, list[tuple[int, dict]]] = {}
    for sheet in SHEETS:
        tables[sheet.table] = []
        if sheet.name not in workbook.sheetnames:
            continue
        ws = workbook[sheet.name]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None) or ()
        positions: dict[str, int] = {}
        for index, text in enumerate(header):
            match = HEADER_KEY.search(str(text or ""))
            if match:
                positions[match.group(1)] = index
        missing = [c for c in sheet.columns if c.key not in positions and c.required]
        for column in missing:
            errors.append(
                FieldError(
                    f"{sheet.name}!1",
                    "missing_column",
                    _("工作表“%(s)s”缺少必需的列 [%(k)s]（%(h)s）")
                    % {"s": sheet.name, "k": column.key, "h": column.header},
                )
            )
        if missing:
            continue
        for row_number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            record: dict[str, Any] = {}
            cells: dict[str, Cell] = {}
            for column in sheet.columns:
                index = positions.get(column.key)
                raw = values[index] if index is not None and index < len(values) else None
                cell = Cell(
                    sheet.name,
                    row_number,
                    _letter(index + 1) if index is not None else None,
                    column.header,
                )
                cells[column.key] = cell
                try:
                    record[column.key] = _from_cell(column, raw)
                except _CellError as exc:
                    errors.append(
                        FieldError(
                            f"{sheet.name}!{cell.column}{row_number}",
                            exc.rule,
                            _("工作表“%(s)s”第%(r)s行%(c)s列（%(h)s）：%(m)s")
                            % {
                                "s": sheet.name,
                                "r": row_number,
                                "c": cell.column,
                                "h": column.header,
                                "m": exc.message,
                            },
                        )
                    )
            record["__cells__"] = cells
            record["__row__"] = Cell(sheet.name, row_number)
            tables[sheet.table].append((row_number, record))
    format_version = FORMAT_VERSION
    if README_SHEET in workbook.sheetnames:
        for row in workbook[README_SHEET].iter_rows(values_only=True, max_row=2):
            if row and row[0] == "format_version" and isinstance(row[1], int):
                format_version = row[1]
    workbook.close()
    _fail(errors)
    return _assemble(tables, source, errors, format_version)


def _assemble(tables, source: Source, errors: list[FieldError], format_version: int):
    """Nest the flat tables into the document, recording each value's cell."""

    def take(record: dict, path: str, skip: tuple[str, ...] = ()) -> dict:
        cells = record.pop("__cells__")
        source.cells[path] = record.pop("__row__")
        out = {}
        for key, value in record.items():
            if key in skip:
                continue
            out[key] = value
            source.cells[f"{path}.{key}"] = cells[key]
        return out

    def orphan(record: dict, what: str, code: str) -> None:
        row = record["__row__"]
        errors.append(
            FieldError(
                f"{row.sheet}!{row.row}",
                "unknown_parent",
                _("工作表“%(s)s”第%(r)s行：%(w)s %(c)s 不存在")
                % {"s": row.sheet, "r": row.row, "w": what, "c": code},
            )
        )

    document: dict[str, Any] = {"format": FORMAT_NAME, "format_version": format_version}
    for table in ("themes", "data_elements", "material_kinds"):
        document[table] = [
            take(record, f"{table}[{i}]") for i, (_n, record) in enumerate(tables[table])
        ]
    items: list[dict] = []
    item_index: dict[str, int] = {}
    for _n, record in tables["items"]:
        path = f"items[{len(items)}]"
        item_index.setdefault(record["implementation_code"], len(items))
        items.append({**take(record, path), "versions": []})
    version_index: dict[tuple[str, Any], tuple[int, int]] = {}
    for _n, record in tables["item_versions"]:
        code = record["implementation_code"]
        if code not in item_index:
            orphan(record, _("事项"), code)
            continue
        i = item_index[code]
        j = len(items[i]["versions"])
        version = take(record, f"items[{i}].versions[{j}]", skip=("implementation_code",))
        version["materials"] = []
        items[i]["versions"].append(version)
        version_index.setdefault((code, version["number"]), (i, j))
    for _n, record in tables["item_materials"]:
        key = (record["implementation_code"], record["version"])
        if key not in version_index:
            orphan(record, _("事项版本"), f"{key[0]} v{key[1]}")
            continue
        i, j = version_index[key]
        materials = items[i]["versions"][j]["materials"]
        materials.append(
            take(
                record,
                f"items[{i}].versions[{j}].materials[{len(materials)}]",
                skip=("implementation_code", "version"),
            )
        )
    document["items"] = items
    bundles: list[dict] = []
    bundle_index: dict[str, int] = {}
    for _n, record in tables["bundles"]:
        bundle_index.setdefault(record["code"], len(bundles))
        bundles.append({**take(record, f"bundles[{len(bundles)}]"), "versions": []})
    bversion_index: dict[tuple[str, Any], tuple[int, int]] = {}
    for _n, record in tables["bundle_versions"]:
        code = record["bundle"]
        if code not in bundle_index:
            orphan(record, _("一件事"), code)
            continue
        i = bundle_index[code]
        j = len(bundles[i]["versions"])
        version = take(record, f"bundles[{i}].versions[{j}]", skip=("bundle",))
        version["questionnaire"], version["members"] = [], []
        bundles[i]["versions"].append(version)
        bversion_index.setdefault((code, version["number"]), (i, j))
    for table, key_name in (("questions", "questionnaire"), ("bundle_members", "members")):
        for _n, record in tables[table]:
            key = (record["bundle"], record["version"])
            if key not in bversion_index:
                orphan(record, _("一件事版本"), f"{key[0]} v{key[1]}")
                continue
            i, j = bversion_index[key]
            target = bundles[i]["versions"][j][key_name]
            entry = take(
                record,
                f"bundles[{i}].versions[{j}].{key_name}[{len(target)}]",
                skip=("bundle", "version"),
            )
            target.append(normalize_question(entry) if table == "questions" else entry)
    document["bundles"] = bundles
    _fail(errors)
    return document, source


# ---------------------------------------------------------------------------------------
# export


def department_reference(department) -> str:
    code = department.region.code
    return f"{code[:6] if code.endswith('000000') else code}:{department.kind}"


def region_reference(region) -> str:
    return region.code[:6] if region.code.endswith("000000") else region.code


def export_document() -> dict:
    """The whole catalogue as one document, in a stable order."""
    materials = Prefetch(
        "materials", queryset=ItemMaterial.objects.select_related("kind").order_by("order", "id")
    )
    items = (
        Item.objects.select_related("department__region")
        .prefetch_related(
            "themes",
            "service_points",
            Prefetch(
                "versions",
                queryset=ItemVersion.objects.order_by("number").prefetch_related(materials),
            ),
        )
        .order_by("implementation_code")
    )
    members = Prefetch(
        "members", queryset=BundleMember.objects.select_related("item").order_by("order", "id")
    )
    bundles = (
        Bundle.objects.select_related("region")
        .prefetch_related(
            "themes",
            Prefetch(
                "versions",
                queryset=BundleVersion.objects.order_by("number").prefetch_related(members),
            ),
        )
        .order_by("code")
    )
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "themes": [theme_content(t) for t in Theme.objects.order_by("code")],
        "data_elements": [element_content(e) for e in DataElement.objects.order_by("code")],
        "material_kinds": [material_kind_content(k) for k in MaterialKind.objects.order_by("code")],
        "items": [
            {
                "implementation_code": item.implementation_code,
                "basic_code": item.basic_code,
                "business_item_code": item.business_item_code,
                "department": department_reference(item.department),
                "themes": sorted(t.code for t in item.themes.all()),
                "service_points": sorted(p.code for p in item.service_points.all()),
                "cross_province_partners": list(item.cross_province_partners),
                "versions": [item_version_content(v) for v in item.versions.all()],
            }
            for item in items
        ],
        "bundles": [
            {
                "code": bundle.code,
                "region": region_reference(bundle.region),
                "audience": bundle.audience,
                "themes": sorted(t.code for t in bundle.themes.all()),
                "versions": [bundle_version_content(v) for v in bundle.versions.all()],
            }
            for bundle in bundles
        ],
    }


# ---------------------------------------------------------------------------------------
# defaults


def with_defaults(document: dict) -> dict:
    """The document with every optional key present, so later checks and the writer see one
    shape whatever the author left out."""
    out = dict(document)
    out["themes"] = [{"order": 0, "description": "", **t} for t in document.get("themes", [])]
    out["data_elements"] = [
        {"description": "", "personal": False, **e} for e in document.get("data_elements", [])
    ]
    out["material_kinds"] = [
        {
            "data_category": "",
            "formats": ["pdf", "jpg", "png"],
            "max_size_mb": 10,
            "blank_form_url": "",
            "sample_url": "",
            "description": "",
            **k,
        }
        for k in document.get("material_kinds", [])
    ]
    out["items"] = [
        {
            "business_item_code": "000",
            "themes": [],
            "service_points": [],
            "cross_province_partners": [],
            **item,
            "versions": [
                {
                    "effective_from": None,
                    "effective_until": None,
                    **ITEM_VERSION_DEFAULTS,
                    **version,
                    "materials": [{**MATERIAL_DEFAULTS, **m} for m in version.get("materials", [])],
                }
                for version in item.get("versions", [])
            ],
        }
        for item in document.get("items", [])
    ]
    out["bundles"] = [
        {
            "themes": [],
            **bundle,
            "versions": [
                {
                    "effective_from": None,
                    "effective_until": None,
                    "summary": "",
                    "promised_limit": None,
                    **version,
                    "questionnaire": [
                        normalize_question(q) if isinstance(q, dict) else q
                        for q in version.get("questionnaire", [])
                    ],
                    "members": [{**MEMBER_DEFAULTS, **m} for m in version.get("members", [])],
                }
                for version in bundle.get("versions", [])
            ],
        }
        for bundle in document.get("bundles", [])
    ]
    return out


def check_shape(document: Any, source: Source) -> None:
    errors = [
        source.error(json_path(error.absolute_path), error.validator, error.message)
        for error in sorted(
            _document_validator.iter_errors(document), key=lambda e: json_path(e.absolute_path)
        )
    ]
    _fail(errors)
