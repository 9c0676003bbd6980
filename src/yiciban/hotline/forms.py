"""Page forms: they only shape input for the services, which do the real checking."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from yiciban.org.models import Department, Region

from .models import Satisfaction, TicketCategory


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("您想咨询什么？"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("例如：营业执照怎么办"),
            }
        ),
    )


class CallForm(forms.Form):
    """What the operator types while on the line."""

    region = forms.ModelChoiceField(label=_("受理区划"), queryset=Region.objects.none())
    category = forms.ModelChoiceField(label=_("诉求分类"), queryset=TicketCategory.objects.none())
    caller_name = forms.CharField(label=_("来电人"), max_length=50, required=False)
    caller_phone = forms.CharField(label=_("来电号码"), max_length=20)
    title = forms.CharField(label=_("标题"), max_length=100, required=False)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label=_("地点"), max_length=200, required=False)

    def __init__(self, *args, regions, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["category"].queryset = categories
        if regions.count() == 1:
            self.fields["region"].initial = regions.first()


class OnlineForm(forms.Form):
    region = forms.ModelChoiceField(label=_("所在县（市、区）"), queryset=Region.objects.none())
    category = forms.ModelChoiceField(label=_("诉求分类"), queryset=TicketCategory.objects.none())
    caller_phone = forms.CharField(label=_("手机号码"), max_length=20)
    title = forms.CharField(label=_("标题"), max_length=100, required=False)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}))
    address = forms.CharField(label=_("地点"), max_length=200, required=False)

    def __init__(self, *args, regions, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["category"].queryset = categories


class AnswerFromKnowledgeForm(forms.Form):
    entry_id = forms.IntegerField(label=_("知识库条目编号"), min_value=1)
    note = forms.CharField(label=_("补充说明"), max_length=500, required=False)


class DispatchForm(forms.Form):
    department = forms.ModelChoiceField(label=_("承办部门"), queryset=Department.objects.none())
    instructions = forms.CharField(
        label=_("派单意见"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 5}))


class FollowUpForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label=_("回访记录"), max_length=500, required=False)


class KnowledgeEntryForm(forms.Form):
    region = forms.ModelChoiceField(label=_("适用区划"), queryset=Region.objects.none())
    department = forms.ModelChoiceField(
        label=_("责任部门"), queryset=Department.objects.none(), required=False
    )
    question = forms.CharField(label=_("问题"), max_length=300)
    answer = forms.CharField(label=_("答复口径"), widget=forms.Textarea(attrs={"rows": 6}))
    tags = forms.CharField(label=_("标签（用逗号分隔）"), max_length=400, required=False)
    valid_from = forms.DateField(
        label=_("生效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("失效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, regions, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["department"].queryset = departments

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "").replace("，", ",")
        return [t.strip() for t in raw.split(",") if t.strip()]


class SynonymForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=50)
    terms = forms.CharField(label=_("同义词（用逗号或空格分隔）"), max_length=700)

    def term_list(self) -> list[str]:
        raw = self.cleaned_data.get("terms", "").replace("，", ",").replace("、", ",")
        return [t for part in raw.split(",") for t in part.split() if t]
