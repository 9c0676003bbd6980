"""Pages: thin views over the services; what a person sees and can do."""

import pytest
from django.urls import reverse

from yiciban.hotline import services
from yiciban.hotline.models import Ticket, TicketStatus

from .conftest import CALLER_PHONE


@pytest.fixture
def entry(operator, huarong, market):
    services.synonym_group_create(actor=operator, name="营业执照", terms=["营业执照", "营业证"])
    return services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        department=market,
        question="个体工商户营业执照怎么办？",
        answer="到政务服务中心市场监管窗口办理，<script>alert(1)</script>当场办结。",
        publish=True,
    )


def test_public_search_page_without_javascript(client, entry):
    response = client.get(reverse("hotline:index"), {"q": "营业证"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "个体工商户营业执照怎么办？" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'hx-get="/hotline/knowledge/results/"' in html


def test_instant_results_fragment(client, entry):
    response = client.get(
        reverse("hotline:knowledge_results"), {"q": "营业执照"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html and "个体工商户营业执照怎么办？" in html
    empty = client.get(reverse("hotline:knowledge_results"), {"q": "火箭发射"}).content.decode()
    assert "没有找到" in empty
    too_long = client.get(reverse("hotline:knowledge_results"), {"q": "办" * 150})
    assert too_long.status_code == 200 and "100" in too_long.content.decode()
    assert "errorlist" in too_long.content.decode()


def test_entry_page(client, entry):
    response = client.get(reverse("hotline:knowledge_detail", args=[entry.pk]))
    assert response.status_code == 200 and "华容县市场监督管理局" in response.content.decode()
    assert client.get(reverse("hotline:knowledge_detail", args=[99999])).status_code == 404


def test_operator_logs_a_call_and_answers_from_the_knowledge_base(
    client, operator, categories, entry
):
    client.force_login(operator)
    page = client.get(reverse("hotline:console"))
    assert page.status_code == 200
    response = client.post(
        reverse("hotline:console"),
        {
            "region": entry.region.pk,
            "category": categories["consult"].pk,
            "caller_name": "王先生",
            "caller_phone": CALLER_PHONE,
            "description": "营业证怎么办",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("hotline:ticket_detail", args=[ticket.number])
    detail = client.get(response["Location"]).content.decode()
    assert "138****5678" in detail and CALLER_PHONE not in detail
    results = client.get(
        reverse("hotline:knowledge_results"), {"q": "营业证", "ticket": ticket.number}
    ).content.decode()
    assert "用此条答复来电人" in results
    client.post(
        reverse("hotline:ticket_action", args=[ticket.number, "answer_from_knowledge"]),
        {"entry_id": entry.pk},
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED and ticket.knowledge_entry == entry


def test_console_shows_field_errors(client, operator, categories, huarong):
    client.force_login(operator)
    response = client.post(
        reverse("hotline:console"),
        {
            "region": huarong.pk,
            "category": categories["consult"].pk,
            "caller_phone": "123",
            "description": "咨询",
        },
    )
    assert response.status_code == 200
    assert "联系电话应为11位手机号码" in response.content.decode()
    assert not Ticket.objects.exists()


def test_console_is_for_operators(client, person, market_staff):
    client.force_login(person)
    assert client.get(reverse("hotline:console")).status_code == 403
    client.force_login(market_staff)
    assert client.get(reverse("hotline:console")).status_code == 403


def test_department_answers_from_its_queue(client, logged_call, operator, market, market_staff):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    client.force_login(market_staff)
    queue = client.get(reverse("hotline:queue")).content.decode()
    assert ticket.number in queue
    detail = client.get(reverse("hotline:ticket_detail", args=[ticket.number])).content.decode()
    assert "部门答复" in detail and "退回" in detail
    empty = client.post(
        reverse("hotline:ticket_action", args=[ticket.number, "answer"]), {"answer": ""}
    )
    assert empty.status_code == 200
    client.post(
        reverse("hotline:ticket_action", args=[ticket.number, "answer"]),
        {"answer": "已按规定办理"},
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ANSWERED


def test_conflicting_action_shows_a_message(client, logged_call, operator, market):
    ticket = services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    client.force_login(operator)
    response = client.post(
        reverse("hotline:ticket_action", args=[ticket.number, "dispatch"]),
        {"department": market.pk},
        follow=True,
    )
    assert "不能派单" in response.content.decode()


def test_supervisor_board_page(client, supervisor, logged_call, operator, market):
    services.ticket_dispatch(actor=operator, ticket=logged_call(), department=market)
    client.force_login(supervisor)
    html = client.get(reverse("hotline:board")).content.decode()
    assert "华容县市场监督管理局" in html and "按时率" in html
    client.force_login(operator)
    assert client.get(reverse("hotline:board")).status_code == 403


def test_person_submits_and_follows_own_tickets(client, person, categories, huarong):
    client.force_login(person)
    response = client.post(
        reverse("hotline:my_ticket_new"),
        {
            "region": huarong.pk,
            "category": categories["suggest"].pk,
            "caller_phone": "13900001111",
            "description": "建议延长办事大厅午间服务",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.caller_user == person
    mine = client.get(reverse("hotline:my_tickets")).content.decode()
    assert ticket.number in mine and "已登记" in mine


def test_my_tickets_needs_login(client, db):
    response = client.get(reverse("hotline:my_tickets"))
    assert response.status_code == 302


def test_curator_pages(client, operator, huarong, market):
    client.force_login(operator)
    assert client.get(reverse("hotline:knowledge_manage")).status_code == 200
    response = client.post(
        reverse("hotline:knowledge_new"),
        {
            "region": huarong.pk,
            "department": market.pk,
            "question": "食品经营许可证怎么办？",
            "answer": "到市场监管窗口申请。",
            "tags": "食品，许可",
            "publish": "1",
        },
    )
    assert response.status_code == 302
    assert (
        client.get(reverse("hotline:index"), {"q": "食品经营许可"})
        .content.decode()
        .count("食品经营许可证怎么办？")
        == 1
    )
    synonyms = client.post(reverse("hotline:synonyms"), {"name": "医保", "terms": "医保，医疗保险"})
    assert synonyms.status_code == 302
    assert "医保 / 医疗保险" in client.get(reverse("hotline:synonyms")).content.decode()
