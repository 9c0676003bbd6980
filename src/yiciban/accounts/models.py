import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiciban.core import crypto
from yiciban.org.models import Region


class Person(models.Model):
    """A natural person who applies (or acts for an enterprise). The resident ID is kept
    encrypted, with a keyed hash for lookup and a masked copy for screens: a database dump
    does not reveal it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    name = models.CharField(_("姓名"), max_length=50)
    id_number_encrypted = models.TextField(_("身份证号（密文）"), editable=False)
    id_number_index = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=20, blank=True, editable=False)
    region = models.ForeignKey(
        Region,
        verbose_name=_("户籍区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    @property
    def id_number(self) -> str:
        """Clear value — for documents that must print it; never for logs or lists."""
        return crypto.decrypt(self.id_number_encrypted)

    @property
    def phone(self) -> str:
        return crypto.decrypt(self.phone_encrypted) if self.phone_encrypted else ""


class Enterprise(models.Model):
    """A market entity identified by its unified social credit code (public by law, so kept
    in clear)."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    legal_representative = models.ForeignKey(
        Person,
        verbose_name=_("法定代表人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="represented_enterprises",
    )
    registered_address = models.CharField(_("住所"), max_length=200)
    region = models.ForeignKey(
        Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")

    def __str__(self) -> str:
        return self.name


class AuthorisationKind(models.TextChoices):
    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代表人")
    AGENT = "agent", _("授权代理人")


class Authorisation(models.Model):
    """A person may act for an enterprise: as its legal representative, or as an agent
    with a recorded authorisation that expires (and can be revoked)."""

    person = models.ForeignKey(
        Person, verbose_name=_("被授权人"), on_delete=models.PROTECT, related_name="authorisations"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="authorisations"
    )
    kind = models.CharField(_("类型"), max_length=30, choices=AuthorisationKind.choices)
    scope = models.CharField(_("授权范围"), max_length=200, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        indexes = [models.Index(fields=["person", "enterprise"])]
        constraints = [
            # An agent's authority always ends; a legal representative's ends with the role.
            models.CheckConstraint(
                condition=~Q(kind=AuthorisationKind.AGENT) | Q(valid_until__isnull=False),
                name="accounts_authorisation_agent_expires",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="accounts_authorisation_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} → {self.enterprise.name}（{self.get_kind_display()}）"

    def is_valid_on(self, day: datetime.date) -> bool:
        """In force on `day`: started, not ended, and not revoked before that day ended."""
        if self.valid_from > day or (self.valid_until is not None and self.valid_until < day):
            return False
        if self.revoked_at is None:
            return True
        return timezone.localdate(self.revoked_at) > day
