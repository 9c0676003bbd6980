from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "yiciban.org"
    label = "org"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from .models import Department, Region, RoleAssignment
        from .selectors import forget_role_grants

        # Role checks read a user's grants once per generation (selectors._grants).
        for model in (RoleAssignment, Department, Region):
            post_save.connect(forget_role_grants, sender=model, dispatch_uid=f"roles-{model}")
            post_delete.connect(forget_role_grants, sender=model, dispatch_uid=f"roles-{model}-")
