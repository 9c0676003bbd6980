import pytest
from django.contrib.auth import get_user_model

from yiciban.catalog.models import ItemVersion, VersionStatus

from .conftest import department

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, restaurant):
    user = get_user_model().objects.create(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_admin_pages_render(admin_client, restaurant):
    version = restaurant["food"].versions.get()
    for url in (
        "/admin/catalog/item/",
        f"/admin/catalog/item/{restaurant['food'].pk}/change/",
        "/admin/catalog/itemversion/",
        f"/admin/catalog/itemversion/{version.pk}/change/",
        "/admin/catalog/bundle/",
        "/admin/catalog/bundleversion/",
        "/admin/catalog/dataelement/",
        "/admin/catalog/materialkind/",
        "/admin/catalog/theme/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_published_version_is_read_only_in_admin(admin_client, restaurant):
    version = restaurant["food"].versions.get()
    page = admin_client.get(f"/admin/catalog/itemversion/{version.pk}/change/").content.decode()
    assert 'name="name"' not in page  # shown, not editable


def test_admin_creates_draft_edits_and_publishes_through_services(admin_client, restaurant):
    item = restaurant["food"]
    response = admin_client.post(
        "/admin/catalog/item/",
        {"action": "create_draft", "_selected_action": [item.pk]},
    )
    assert response.status_code == 302
    draft = item.versions.get(status=VersionStatus.DRAFT)
    response = admin_client.post(
        "/admin/catalog/itemversion/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert ItemVersion.objects.filter(item=item).count() == 2


def test_admin_item_create_uses_the_service(admin_client, restaurant):
    dept = department("430623", "health")
    response = admin_client.post(
        "/admin/catalog/item/add/",
        {
            "department": dept.pk,
            "basic_code": "010014012000",
            "business_item_code": "000",
            "name": "公共场所卫生许可",
            "cross_province_partners": "[]",
        },
    )
    assert response.status_code == 302
    from yiciban.catalog.models import Item
    from yiciban.core.models import AuditEvent

    item = Item.objects.get(implementation_code=dept.uscc + "010014012000000")
    assert item.versions.get().status == VersionStatus.DRAFT
    assert AuditEvent.objects.filter(action="catalog.item_create", object_id=str(item.pk)).exists()
