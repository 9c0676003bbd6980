import datetime as dt

import pytest

from yiciban.core.identifiers import make_uscc
from yiciban.hotline import services
from yiciban.hotline.models import TicketKind
from yiciban.org.models import Department, Region, RegionLevel, Role, RoleAssignment

PASSWORD = "Pass-word-for-tests-42"
CALLER_PHONE = "13812345678"


def _region(code, name, level, parent=None):
    path = f"{parent.path}/{code}" if parent else code
    return Region.objects.create(code=code, name=name, level=level, parent=parent, path=path)


@pytest.fixture
def province(db):
    return _region("430000000000", "湖南省", RegionLevel.PROVINCE)


@pytest.fixture
def huarong(province):
    city = _region("430600000000", "岳阳市", RegionLevel.CITY, province)
    return _region("430623000000", "华容县", RegionLevel.COUNTY, city)


@pytest.fixture
def lanshan(province):
    city = _region("431100000000", "永州市", RegionLevel.CITY, province)
    return _region("431127000000", "蓝山县", RegionLevel.COUNTY, city)


def _department(region, name, kind, body):
    return Department.objects.create(
        region=region,
        name=name,
        kind=kind,
        uscc=make_uscc(authority="1", category="1", region=region.code[:6], org_body=body),
    )


@pytest.fixture
def market(huarong):
    return _department(huarong, "华容县市场监督管理局", "market_regulation", "MB000001")


@pytest.fixture
def social(huarong):
    return _department(
        huarong, "华容县人力资源和社会保障局", "human_resources_social_security", "MB000002"
    )


@pytest.fixture
def lanshan_market(lanshan):
    return _department(lanshan, "蓝山县市场监督管理局", "market_regulation", "MB000003")


def _user(django_user_model, username, **roles):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=True, display_name=username
    )
    for role, scope in roles.items():
        if isinstance(scope, Department):
            RoleAssignment.objects.create(user=user, role=role, department=scope)
        elif scope is None:
            RoleAssignment.objects.create(user=user, role=role)
        else:
            RoleAssignment.objects.create(user=user, role=role, region=scope)
    return user


@pytest.fixture
def admin_user(django_user_model, db):
    return _user(django_user_model, "platform", **{Role.PLATFORM_ADMIN: None})


@pytest.fixture
def operator(django_user_model, huarong):
    return _user(django_user_model, "operator", **{Role.HOTLINE_OPERATOR: huarong})


@pytest.fixture
def other_operator(django_user_model, huarong):
    return _user(django_user_model, "operator2", **{Role.HOTLINE_OPERATOR: huarong})


@pytest.fixture
def lanshan_operator(django_user_model, lanshan):
    return _user(django_user_model, "lanshan_operator", **{Role.HOTLINE_OPERATOR: lanshan})


@pytest.fixture
def supervisor(django_user_model, huarong):
    return _user(django_user_model, "supervisor", **{Role.SUPERVISOR: huarong})


@pytest.fixture
def market_staff(django_user_model, market):
    return _user(django_user_model, "market_reviewer", **{Role.REVIEWER: market})


@pytest.fixture
def market_admin(django_user_model, market):
    return _user(django_user_model, "market_admin", **{Role.DEPARTMENT_ADMIN: market})


@pytest.fixture
def social_staff(django_user_model, social):
    return _user(django_user_model, "social_reviewer", **{Role.REVIEWER: social})


@pytest.fixture
def person(django_user_model, db):
    return django_user_model.objects.create_user(
        username="zhangsan", password=PASSWORD, display_name="张三"
    )


@pytest.fixture
def categories(admin_user):
    made = {}
    made["consult"] = services.ticket_category_save(
        actor=admin_user,
        code="consultation.general",
        name="政策咨询",
        kind=TicketKind.CONSULTATION,
        group="咨询",
    )
    made["complaint"] = services.ticket_category_save(
        actor=admin_user,
        code="complaint.market",
        name="市场监管投诉",
        kind=TicketKind.COMPLAINT,
        group="投诉",
        default_department_kind="market_regulation",
        location_required=True,
        attributes=[
            {
                "code": "respondent",
                "datatype": "string",
                "required": True,
                "description": "被投诉对象",
            },
            {
                "code": "loss",
                "datatype": "singlevaluelist",
                "required": False,
                "description": "是否造成损失",
                "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
            },
        ],
    )
    made["suggest"] = services.ticket_category_save(
        actor=admin_user, code="suggestion.general", name="意见建议", kind=TicketKind.SUGGESTION
    )
    return made


@pytest.fixture
def logged_call(operator, huarong, categories):
    def make(category="consult", description="咨询个体工商户营业执照办理需要哪些材料", **extra):
        return services.ticket_log_call(
            actor=operator,
            region=huarong,
            category=categories[category],
            description=description,
            caller_phone=CALLER_PHONE,
            caller_name="王先生",
            **extra,
        )

    return make


@pytest.fixture
def at():
    """Run the code under test on a given Beijing-time date and hour."""
    import time_machine

    machines = []

    def travel(day: dt.date, hour: int = 10):
        for machine in machines:
            machine.stop()
        machines.clear()
        moment = dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone(dt.timedelta(hours=8)))
        machine = time_machine.travel(moment, tick=False)
        machine.start()
        machines.append(machine)

    yield travel
    for machine in machines:
        machine.stop()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Staff users are created in almost every test; the production hasher would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
