"""Admin for applicants. Personal identifiers appear masked only; a resident ID typed into
the search box is looked up through its blind index, never compared in clear. New rows go
through the accounts services; existing persons and enterprises are read-only here, and an
authorisation is ended by revoking it (an action), never by deleting it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiciban.core.errors import DomainError
from yiciban.core.identifiers import check_resident_id
from yiciban.org import selectors as org_selectors
from yiciban.org.admin import ServiceCheckedForm, add_domain_error, adopt
from yiciban.org.models import Role

from . import selectors, services
from .models import Authorisation, Enterprise, Person


def _front_office(user) -> bool:
    return any(
        org_selectors.has_role(user, role)
        for role in (Role.COUNTER_CLERK, Role.ASSISTED_SERVICE_AGENT)
    )


class ApplicantAdmin(admin.ModelAdmin):
    """Platform admins and front-office staff (counter clerks, assisted-service agents) see
    and register applicants; nobody edits or deletes them here."""

    def has_module_permission(self, request):
        return _front_office(request.user)

    def has_view_permission(self, request, obj=None):
        return _front_office(request.user)

    def has_add_permission(self, request):
        return _front_office(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form


# --- persons --------------------------------------------------------------------------


class PersonAddForm(ServiceCheckedForm):
    id_number = forms.CharField(label=_("公民身份号码"), max_length=18)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)

    class Meta:
        model = Person
        fields = ("name", "id_number", "phone", "region", "user")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.validate_person(
                    name=cleaned.get("name", ""),
                    id_number=cleaned.get("id_number", ""),
                    phone=cleaned.get("phone", ""),
                )
                if selectors.person_find_by_id_number(cleaned["id_number"]) is not None:
                    self.add_error("id_number", _("该身份证号已登记"))
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Person)
class PersonAdmin(ApplicantAdmin):
    list_display = ("name", "id_number_masked", "phone_masked", "region", "user", "created_at")
    search_fields = ("name",)
    autocomplete_fields = ("region", "user")
    list_select_related = ("region", "user")
    fields = ("name", "id_number_masked", "phone_masked", "region", "user", "created_at")
    readonly_fields = ("id_number_masked", "phone_masked", "created_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PersonAddForm
            kwargs["fields"] = PersonAddForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else PersonAddForm.Meta.fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_search_results(self, request, queryset, search_term):
        # A full resident ID is matched through the blind index; names as usual.
        term = search_term.strip()
        if term and check_resident_id(term):
            return queryset.filter(id_number_index=selectors.id_number_index(term)), False
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(
            obj,
            services.person_register(
                actor=request.user,
                name=data["name"],
                id_number=data["id_number"],
                phone=data.get("phone", ""),
                region=data.get("region"),
                user=data.get("user"),
            ),
        )


# --- enterprises ----------------------------------------------------------------------


class EnterpriseForm(ServiceCheckedForm):
    class Meta:
        model = Enterprise
        fields = ("uscc", "name", "registered_address", "region", "legal_representative")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                code = services.validate_enterprise(
                    uscc=cleaned.get("uscc", ""),
                    name=cleaned.get("name", ""),
                    registered_address=cleaned.get("registered_address", ""),
                    region=cleaned.get("region"),
                )
                cleaned["uscc"] = code
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Enterprise)
class EnterpriseAdmin(ApplicantAdmin):
    form = EnterpriseForm
    list_display = ("uscc", "name", "region", "legal_representative", "created_at")
    search_fields = ("uscc", "name")
    autocomplete_fields = ("region", "legal_representative")
    list_select_related = ("region", "legal_representative")

    def save_model(self, request, obj, form, change):
        adopt(
            obj,
            services.enterprise_register(
                actor=request.user,
                uscc=obj.uscc,
                name=obj.name,
                registered_address=obj.registered_address,
                region=obj.region,
                legal_representative=obj.legal_representative,
            ),
        )


# --- authorisations -------------------------------------------------------------------


class AuthorisationForm(ServiceCheckedForm):
    class Meta:
        model = Authorisation
        fields = ("enterprise", "person", "kind", "scope", "valid_from", "valid_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "valid_from" in self.fields:
            self.fields["valid_from"].initial = timezone.localdate

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.validate_authorisation(
                    enterprise=cleaned["enterprise"],
                    person=cleaned["person"],
                    kind=cleaned.get("kind", ""),
                    valid_from=cleaned["valid_from"],
                    valid_until=cleaned.get("valid_until"),
                    scope=cleaned.get("scope", ""),
                )
            except DomainError as exc:
                add_domain_error(self, exc)
        return cleaned


@admin.register(Authorisation)
class AuthorisationAdmin(ApplicantAdmin):
    form = AuthorisationForm
    list_display = (
        "person",
        "enterprise",
        "kind",
        "valid_from",
        "valid_until",
        "revoked_at",
        "in_force",
    )
    list_filter = ("kind",)
    search_fields = ("enterprise__uscc", "enterprise__name", "person__name")
    autocomplete_fields = ("enterprise", "person")
    list_select_related = ("person", "enterprise")
    actions = ["revoke"]

    @admin.display(description=_("今日有效"), boolean=True)
    def in_force(self, obj: Authorisation) -> bool:
        return obj.is_valid_on(timezone.localdate())

    def get_actions(self, request):
        # the revoke action replaces bulk deletion
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("撤销所选授权"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = 0
        for authorisation in queryset.select_related("enterprise__region"):
            try:
                services.authorisation_revoke(actor=request.user, authorisation=authorisation)
                revoked += 1
            except DomainError as exc:
                messages.error(request, f"{authorisation}：{exc.message}")
        if revoked:
            messages.success(request, _("已撤销%(n)d项授权") % {"n": revoked})

    def has_revoke_permission(self, request):
        return _front_office(request.user)

    def save_model(self, request, obj, form, change):
        adopt(
            obj,
            services.authorisation_grant(
                actor=request.user,
                enterprise=obj.enterprise,
                person=obj.person,
                kind=obj.kind,
                valid_from=obj.valid_from,
                valid_until=obj.valid_until,
                scope=obj.scope,
            ),
        )
