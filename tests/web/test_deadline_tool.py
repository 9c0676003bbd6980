import pytest
from django.urls import reverse

URL = reverse("web:deadline_tool")


@pytest.mark.django_db
def test_empty_page_shows_the_form_without_errors(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "办理时限计算" in html
    assert 'name="start"' in html and 'type="date"' in html
    assert 'name="working_days"' in html
    assert "请修改以下内容" not in html
    assert "计算结果" not in html


@pytest.mark.django_db
def test_due_date_skips_national_day_holidays(client):
    # 2024-09-30 is a Monday; 1 October to 7 October 2024 are the 国庆 holidays.
    response = client.get(URL, {"start": "2024-09-30", "working_days": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["result"]["due"].isoformat() == "2024-10-08"
    assert '<p class="big" data-testid="due-date">2024-10-08（星期二）' in html
    assert "暂定" not in html


@pytest.mark.django_db
def test_make_up_working_sunday_counts(client):
    # Sunday 2024-09-29 was a 调休 working day: 3 working days after Friday 27 September
    # are 29 September, 30 September and 8 October.
    response = client.get(URL, {"start": "2024-09-27", "working_days": "3"})
    assert response.context["result"]["due"].isoformat() == "2024-10-08"


@pytest.mark.django_db
def test_zero_working_days_is_the_same_day(client):
    response = client.get(URL, {"start": "2025-03-03", "working_days": "0"})
    assert response.context["result"]["due"].isoformat() == "2025-03-03"


@pytest.mark.django_db
def test_a_year_without_official_schedule_is_marked_provisional(client):
    response = client.get(URL, {"start": "2031-03-03", "working_days": "5"})
    html = response.content.decode()
    assert response.context["result"]["provisional"] is True
    assert '<span class="badge provisional">暂定</span>' in html
    assert "尚未公布节假日安排" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "", "working_days": "5"}, "请填写起算日期。"),
        ({"start": "2024-13-01", "working_days": "5"}, "起算日期格式应为“年-月-日”"),
        ({"start": "2024/09/30", "working_days": "5"}, "起算日期格式应为“年-月-日”"),
        (
            {"start": "1999-12-31", "working_days": "5"},
            "起算日期应在 2000-01-01 至 2099-12-31 之间",
        ),
        ({"start": "2024-09-30", "working_days": ""}, "请填写工作日数。"),
        ({"start": "2024-09-30", "working_days": "abc"}, "工作日数应为整数。"),
        ({"start": "2024-09-30", "working_days": "-1"}, "工作日数不能小于 0。"),
        ({"start": "2024-09-30", "working_days": "1000"}, "工作日数不能大于 999。"),
    ],
)
def test_bad_input_gets_a_clear_chinese_error(client, params, message):
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请修改以下内容后再提交" in html
    assert message in html
    assert response.context["result"] is None
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_result_is_linkable(client):
    # A GET form: the same URL gives the same answer to whoever opens it.
    first = client.get(f"{URL}?start=2024-09-30&working_days=1")
    second = client.get(f"{URL}?start=2024-09-30&working_days=1")
    assert first.context["result"] == second.context["result"]
