import threading

import pytest
from django.db import connection

from tests.accounts.helpers import LISI_ID, ZHANGSAN_ID, huarong_clerk
from tests.org.fixtures import UserFactory
from yiciban.accounts import selectors, services
from yiciban.accounts.models import Person
from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent


@pytest.fixture
def clerk(tree):
    return huarong_clerk(tree)


@pytest.mark.django_db
def test_register_stores_the_id_encrypted_indexed_and_masked(tree, clerk):
    person = services.person_register(
        actor=clerk,
        name="张三",
        id_number=ZHANGSAN_ID.lower(),
        phone="+86 138-0000-0001",
        region=tree.zhanghua,
    )
    assert person.id_number == ZHANGSAN_ID  # decrypts to the normalised number
    assert person.id_number_masked == ZHANGSAN_ID[:6] + "********" + ZHANGSAN_ID[-4:]
    assert person.phone == "13800000001"
    assert person.phone_masked == "138****0001"
    assert person.id_number_encrypted.startswith("v1:")
    assert selectors.person_find_by_id_number(ZHANGSAN_ID) == person


@pytest.mark.django_db
def test_the_clear_id_and_phone_are_nowhere_in_the_row_or_the_audit_trail(tree, clerk):
    person = services.person_register(
        actor=clerk, name="张三", id_number=ZHANGSAN_ID, phone="13800000001"
    )
    table = Person._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [person.pk])
        row = cursor.fetchone()
        cursor.execute("SELECT * FROM core_auditevent")
        events = cursor.fetchall()
    stored = " ".join(str(value) for value in row)
    for secret in (ZHANGSAN_ID, ZHANGSAN_ID[6:14], "13800000001"):
        assert secret not in stored
    trail = " ".join(str(value) for event in events for value in event)
    assert events
    for secret in (ZHANGSAN_ID, "13800000001"):
        assert secret not in trail
    event = AuditEvent.objects.get(action="accounts.person_register")
    assert event.changes["id_number"] == person.id_number_masked
    assert event.changes["phone"] == "138****0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"id_number": ZHANGSAN_ID[:-1] + "0"}, ("id_number", "check_char")),
        ({"id_number": "43062319880231021X"}, ("id_number", "birth_date")),
        ({"id_number": "1234"}, ("id_number", "length")),
        ({"phone": "0730-1234567"}, ("phone", "format")),
        ({"phone": "12800000001"}, ("phone", "format")),
        ({"name": ""}, ("name", "required")),
    ],
)
def test_bad_input_names_field_and_rule(tree, clerk, fields, expected):
    data = {"name": "张三", "id_number": ZHANGSAN_ID, "phone": "13800000001", **fields}
    with pytest.raises(ValidationFailed) as exc:
        services.person_register(actor=clerk, **data)
    assert expected in [(e.field, e.rule) for e in exc.value.errors]
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_the_same_id_twice_is_a_conflict(tree, clerk):
    services.person_register(actor=clerk, name="张三", id_number=ZHANGSAN_ID)
    with pytest.raises(Conflict) as exc:
        services.person_register(actor=clerk, name="张叁", id_number=ZHANGSAN_ID.lower())
    assert exc.value.code == "person_exists"
    assert Person.objects.count() == 1


@pytest.mark.django_db
def test_a_person_registers_for_their_own_login_only(tree):
    user = UserFactory(is_staff=False)
    person = services.person_register(actor=user, name="李四", id_number=LISI_ID, user=user)
    assert person.user == user
    with pytest.raises(Conflict) as exc:
        services.person_register(actor=user, name="李四", id_number=ZHANGSAN_ID, user=user)
    assert exc.value.code == "user_has_person"
    stranger = UserFactory(is_staff=False)
    with pytest.raises(PermissionDenied):
        services.person_register(actor=stranger, name="张三", id_number=ZHANGSAN_ID)
    with pytest.raises(PermissionDenied):
        services.person_register(
            actor=stranger, name="张三", id_number=ZHANGSAN_ID, user=UserFactory()
        )


@pytest.mark.django_db
def test_find_by_id_number(tree, clerk):
    assert selectors.person_find_by_id_number(ZHANGSAN_ID) is None
    with pytest.raises(ValidationFailed) as exc:
        selectors.person_find_by_id_number("430623")
    assert exc.value.errors[0].field == "id_number"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers; SQLite serialises every writer, so there is no race",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_id_one_wins(tree, clerk):
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def register(name):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.person_register(actor=clerk, name=name, id_number=ZHANGSAN_ID)
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in ("张三", "张叁")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "created"]
    assert Person.objects.count() == 1
    assert AuditEvent.objects.filter(action="accounts.person_register").count() == 1


@pytest.mark.django_db
def test_person_for_user_reads_what_the_orm_reads(tree, clerk, django_assert_num_queries):
    # person_for_user is a raw statement built once: its person and region must equal, field
    # by field and with the same Python types, the ORM's select_related read.
    user = UserFactory()
    person = services.person_register(
        actor=clerk, name="张三", id_number=ZHANGSAN_ID, phone="13800000001", region=tree.zhanghua
    )
    Person.objects.filter(pk=person.pk).update(user=user)
    expected = Person.objects.select_related("region").get(pk=person.pk)
    with django_assert_num_queries(1):
        found = selectors.person_for_user(user)
        region = found.region  # cached by the same statement
    assert found == expected
    for field in Person._meta.concrete_fields:
        mine, theirs = getattr(found, field.attname), getattr(expected, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    for field in type(region)._meta.concrete_fields:
        mine, theirs = getattr(region, field.attname), getattr(expected.region, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert found._state.adding is False and found._state.db == expected._state.db

    Person.objects.filter(pk=person.pk).update(region=None)
    assert selectors.person_for_user(user).region is None
    assert selectors.person_for_user(UserFactory()) is None
    assert selectors.person_for_user(None) is None
