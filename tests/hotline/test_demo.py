import pytest

from yiciban.core.identifiers import make_uscc
from yiciban.demo_loader import LoadReport
from yiciban.hotline import demo, selectors
from yiciban.hotline.models import (
    KnowledgeEntry,
    SynonymGroup,
    Ticket,
    TicketAssignment,
    TicketCategory,
    TicketStatus,
)
from yiciban.org.models import Department, DepartmentKind, Role, RoleAssignment


@pytest.fixture
def demo_org(huarong, django_user_model):
    for index, kind in enumerate(DepartmentKind):
        Department.objects.create(
            region=huarong,
            name=f"华容县{kind.label}",
            kind=kind,
            uscc=make_uscc(authority="1", category="1", region="430623", org_body=f"DE{index:06d}"),
        )
    admin = django_user_model.objects.create_user(username="admin", is_superuser=True)
    operator = django_user_model.objects.create_user(username="huarong_hotline")
    RoleAssignment.objects.create(user=operator, role=Role.HOTLINE_OPERATOR, region=huarong)
    supervisor = django_user_model.objects.create_user(username="huarong_supervisor")
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR, region=huarong)
    django_user_model.objects.create_user(username="zhangsan", display_name="张三")
    return admin, supervisor


def _counts():
    return [
        model.objects.count()
        for model in (TicketCategory, SynonymGroup, KnowledgeEntry, Ticket, TicketAssignment)
    ]


def test_demo_loads_once_and_covers_every_state(demo_org, huarong):
    _admin, supervisor = demo_org
    demo.load(LoadReport())
    first = _counts()
    assert first[2] >= 60
    demo.load(LoadReport())
    assert _counts() == first
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(TicketStatus.values)
    board = selectors.supervisor_board(supervisor, region=huarong)
    assert board.overdue and board.returned
    assert board.totals.answered >= 3 and 0 < board.totals.answered_on_time < board.totals.answered
    questions = [h.entry.question for h in selectors.knowledge_search(query="个体户办营业证").hits]
    assert "个体工商户怎么办理营业执照？" in questions[:3]
