"""Forms of the openness pages. They only parse; the services check and decide."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    AnswerReason,
    AnswerType,
    ArticleKind,
    BodyFormat,
    ConsultationParty,
    DeliveryMethod,
    RequesterCategory,
    SubscriptionChannel,
)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("搜索"), max_length=100)


class SubscribeForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=_("订阅栏目"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    channel = forms.ChoiceField(
        label=_("接收方式"), choices=SubscriptionChannel.choices, widget=forms.RadioSelect
    )
    address = forms.CharField(
        label=_("手机号码或电子邮箱"),
        max_length=200,
        help_text=_("我们先发送确认码，确认后才会推送"),
    )

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = [(c.kind, c.name) for c in columns]


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(label=_("确认码"), max_length=12)


class DisclosureForm(forms.Form):
    region = forms.ChoiceField(label=_("向哪一级政府申请"), choices=())
    requester_category = forms.ChoiceField(label=_("申请人类别"), choices=RequesterCategory.choices)
    requester_name = forms.CharField(label=_("姓名或名称"), max_length=100)
    id_number = forms.CharField(
        label=_("身份证号码或统一社会信用代码"), max_length=40, required=False
    )
    contact_name = forms.CharField(
        label=_("联系人（法人或其他组织）"), max_length=50, required=False
    )
    phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    address = forms.CharField(label=_("通信地址"), max_length=200, required=False)
    description = forms.CharField(
        label=_("所需信息的名称、文号或便于查询的其他特征性描述"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    delivery_method = forms.ChoiceField(label=_("获取信息的方式"), choices=DeliveryMethod.choices)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, r.name) for r in regions]


class DisclosureLookupForm(forms.Form):
    number = forms.CharField(label=_("申请编号"), max_length=32)
    query_code = forms.CharField(label=_("查询码"), max_length=20)


class RequesterCorrectionForm(forms.Form):
    description = forms.CharField(
        label=_("补正后的申请内容"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000
    )


class StatisticsForm(forms.Form):
    region = forms.CharField(label=_("区划代码"), max_length=12)
    year = forms.IntegerField(label=_("年度"), min_value=2008, max_value=2100)


class SuggestionForm(forms.Form):
    content = forms.CharField(
        label=_("意见建议"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000
    )
    suggester_name = forms.CharField(label=_("姓名（可不填）"), max_length=50, required=False)
    contact = forms.CharField(
        label=_("手机号码或电子邮箱（可不填，用于告知答复）"), max_length=200, required=False
    )
    publish_consent = forms.BooleanField(
        label=_("同意公开我的意见及答复（不公开姓名和联系方式）"), required=False
    )


# --- staff -------------------------------------------------------------------------------


class ArticleForm(forms.Form):
    column = forms.ChoiceField(label=_("栏目"), choices=())
    kind = forms.ChoiceField(label=_("信息类型"), choices=ArticleKind.choices)
    title = forms.CharField(label=_("标题"), max_length=200)
    summary = forms.CharField(label=_("摘要"), max_length=500, required=False)
    document_number = forms.CharField(label=_("文号"), max_length=60, required=False)
    issuing_body = forms.CharField(label=_("发布机构"), max_length=100, required=False)
    body_format = forms.ChoiceField(
        label=_("正文格式"), choices=BodyFormat.choices, initial=BodyFormat.MARKDOWN
    )
    body = forms.CharField(
        label=_("正文"), widget=forms.Textarea(attrs={"rows": 12}), required=False
    )
    interprets = forms.IntegerField(
        label=_("所解读政策的编号（仅政策解读）"), required=False, min_value=1
    )
    show_on_screen = forms.BooleanField(label=_("在大厅显示屏滚动播放"), required=False)

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["column"].choices = [
            (str(c.pk), f"{c.region.name} · {c.name}") for c in columns
        ]


class ApproveForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("发布时间（不填即发布）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    comment = forms.CharField(label=_("审核意见"), max_length=500, required=False)

    def clean_publish_at(self):
        value = self.cleaned_data.get("publish_at")
        # A naive time typed into the page is Beijing time.
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("修改意见"), max_length=500)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=300)
    at = forms.DateTimeField(
        label=_("撤回时间（不填即撤回）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean_at(self):
        value = self.cleaned_data.get("at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class CorrectionForm(forms.Form):
    items = forms.CharField(
        label=_("需要补正的事项（每行一项，一次性列全）"), widget=forms.Textarea(attrs={"rows": 4})
    )
    correction_days = forms.IntegerField(
        label=_("补正期限（工作日）"), min_value=1, max_value=30, initial=15
    )


class ConsultationForm(forms.Form):
    party_kind = forms.ChoiceField(label=_("征求对象"), choices=ConsultationParty.choices)
    party_name = forms.CharField(label=_("名称"), max_length=100)


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label=_("延长工作日（最多20）"), min_value=1, max_value=20)
    reason = forms.CharField(label=_("延长理由"), max_length=500)


class AnswerForm(forms.Form):
    answer_type = forms.ChoiceField(label=_("答复类型"), choices=AnswerType.choices)
    answer_reason = forms.ChoiceField(
        label=_("理由"), choices=[("", _("（无）")), *AnswerReason.choices], required=False
    )
    answer_text = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 6}))


class SuggestionAnswerForm(forms.Form):
    answer_text = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 4}))
