"""Forms of the public reference tools. Validation happens here, on the server, with
messages a resident can act on; the pages only display them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

# Bounds keep a typo (year 20240) from turning into a long computation; a legal time limit
# longer than 999 working days does not exist.
EARLIEST_START = dt.date(2000, 1, 1)
LATEST_START = dt.date(2099, 12, 31)
MAX_WORKING_DAYS = 999


class DeadlineForm(forms.Form):
    start = forms.DateField(
        label=_("起算日期"),
        help_text=_("受理申请等起算事件发生的日期；当日不计入期限。"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("请填写起算日期。"),
            "invalid": _("起算日期格式应为“年-月-日”，例如 2024-09-27。"),
        },
    )
    working_days = forms.IntegerField(
        label=_("工作日数"),
        help_text=_("法定或承诺办结时限，以工作日计；填 0 表示当日办结。"),
        min_value=0,
        max_value=MAX_WORKING_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("请填写工作日数。"),
            "invalid": _("工作日数应为整数。"),
            "min_value": _("工作日数不能小于 %(limit_value)s。"),
            "max_value": _("工作日数不能大于 %(limit_value)s。"),
        },
    )

    def clean_start(self) -> dt.date:
        start = self.cleaned_data["start"]
        if not EARLIEST_START <= start <= LATEST_START:
            raise forms.ValidationError(
                _("起算日期应在 %(first)s 至 %(last)s 之间。"),
                code="range",
                params={"first": EARLIEST_START.isoformat(), "last": LATEST_START.isoformat()},
            )
        return start


class UsccForm(forms.Form):
    """Unified social credit codes are public (printed on every business licence), so the
    form is a GET form and its result a link one can share."""

    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        help_text=_("18位，由数字和大写字母组成（不使用I、O、S、V、Z）。"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        error_messages={
            "required": _("请填写统一社会信用代码。"),
            "max_length": _("输入过长：统一社会信用代码为18位。"),
        },
    )


class ResidentIdForm(forms.Form):
    """A resident ID is personal data: the form is POSTed (never in a URL, so never in
    access logs, history or Referer headers) and the page shows it back only masked."""

    resident_id = forms.CharField(
        label=_("公民身份号码"),
        help_text=_("18位，最后一位可能是数字或X。"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}
        ),
        error_messages={
            "required": _("请填写公民身份号码。"),
            "max_length": _("输入过长：公民身份号码为18位。"),
        },
    )
