"""The portal search page: display rows computed in the selector, and its result cache
(keyed on the index revision, so any publish, edit or withdrawal shows at once)."""

from django.urls import reverse
from django.utils import timezone

from yiciban.openness import search, selectors, services

from .conftest import column, published_article


def _corpus(place):
    published_article(
        place,
        title="华容县2021年耕地地力保护补贴发放公示",
        column_kind="livelihood_funds",
        body="各乡镇耕地地力保护补贴资金已发放到户，补贴标准为每亩105元。",
    )
    published_article(place, title="华容县补贴<b>申领</b>须知", body="补贴申领流程。")
    published_article(
        place,
        region=place.township,
        title="章华镇2021年补贴发放公示",
        column_kind="finance",
        body="章华镇补贴发放名单。",
    )


def test_rows_are_the_ranked_results_as_shown(place):
    _corpus(place)
    for query, scope in [
        ("华容县 补贴 发放", {}),
        ("补贴", {"region": place.township}),
        ("补贴", {"column_kind": "livelihood_funds"}),
    ]:
        ranked = selectors.articles_search(query, **scope)
        shown = selectors.search_page_rows(query, **scope)
        assert shown.count == ranked.count > 0
        assert [
            (row.url, row.title, row.region, row.column, row.date, row.excerpt)
            for row in shown.rows
        ] == [
            (
                reverse("openness:article", args=[hit.article.pk]),
                hit.article.title,
                hit.article.region.name,
                hit.article.column.name,
                timezone.localtime(hit.article.publish_at).strftime("%Y-%m-%d"),
                hit.excerpt,
            )
            for hit in ranked.results
        ]


def test_page_escapes_titles_and_pages_on(client, place):
    _corpus(place)
    page = client.get("/openness/search/", {"q": "补贴申领"}).content.decode()
    assert "华容县补贴&lt;b&gt;申领&lt;/b&gt;须知" in page
    assert "<b>申领</b>" not in page
    first = selectors.search_page_rows("补贴", limit=2)
    second = selectors.search_page_rows("补贴", limit=2, offset=2)
    assert first.count == second.count == 3
    assert len(first.rows) == 2 and len(second.rows) == 1
    assert {row.url for row in first.rows}.isdisjoint({row.url for row in second.rows})


def test_cached_page_is_served_until_the_index_changes(client, place, monkeypatch):
    _corpus(place)
    found = client.get("/openness/search/", {"q": "耕地补贴"}).content.decode()
    assert "华容县2021年耕地地力保护补贴发放公示" in found

    calls = []
    rank_ids = search.rank_ids
    monkeypatch.setattr(search, "rank_ids", lambda *a, **k: calls.append(1) or rank_ids(*a, **k))
    again = client.get("/openness/search/", {"q": "耕地 补贴"}).content.decode()
    assert calls == []  # the same terms: from the cache
    assert "华容县2021年耕地地力保护补贴发放公示" in again

    # a new article (published through the services) is found at once
    published_article(place, title="耕地补贴第二批发放公示", body="耕地补贴第二批。")
    page = client.get("/openness/search/", {"q": "耕地补贴"}).content.decode()
    assert calls == [1]
    assert "耕地补贴第二批发放公示" in page

    # and a withdrawn one leaves at once
    article = selectors.articles_search("耕地补贴第二批").results[0].article
    services.article_withdraw(actor=place.people.county_editor, article=article, reason="有误")
    page = client.get("/openness/search/", {"q": "耕地补贴"}).content.decode()
    assert "耕地补贴第二批发放公示" not in page
    assert "华容县2021年耕地地力保护补贴发放公示" in page


def test_drafts_change_the_revision_but_never_show(client, place):
    _corpus(place)
    client.get("/openness/search/", {"q": "补贴"})
    draft = services.article_create(
        actor=place.people.county_editor,
        column=column(place.county),
        title="未发布的补贴草稿",
        body="补贴补贴",
    )
    assert "未发布的补贴草稿" not in client.get("/openness/search/", {"q": "补贴"}).content.decode()
    services.article_submit(actor=place.people.county_editor, article=draft)
    services.article_approve(actor=place.people.supervisor, article=draft)
    assert "未发布的补贴草稿" in client.get("/openness/search/", {"q": "补贴"}).content.decode()


def test_garbage_scope_is_a_clear_400_not_a_500(place, client):
    _corpus(place)
    url = reverse("openness:search")
    answer = client.get(url, {"q": "补贴", "column": "no-such-column"})
    assert answer.status_code == 400
    assert "no-such-column" in answer.content.decode() or "栏目" in answer.content.decode()
    assert b"search-results" not in answer.content
    answer = client.get(url, {"q": "补贴", "region": "12x"})
    assert answer.status_code == 400
    assert "区划代码" in answer.content.decode()
    answer = client.get(url, {"q": "补贴", "region": "439999000000"})
    assert answer.status_code == 404


def test_layout_memo_header_is_the_plain_render_with_this_requests_path_and_token(
    client, place, monkeypatch
):
    """The base layout's header is rendered once per variant (web's layout_memo); each page
    still gets exactly what a plain render gives, with its own `next` path and CSRF token."""
    import re

    from yiciban.web.templatetags import yiciban_web

    def header(response):
        html = response.content.decode()
        return html[html.index('<header class="site-header">') : html.index("</header>")]

    paths = [
        reverse("openness:search") + "?q=%E8%A1%A5%E8%B4%B4&x=%22%3Cb%3E",
        reverse("openness:search"),
        reverse("openness:portal"),
    ]
    memo = {path: header(client.get(path)) for path in paths}
    memo_again = {path: header(client.get(path)) for path in paths}  # served from the memo
    assert yiciban_web._layout_memo
    monkeypatch.setattr(yiciban_web.LayoutMemoNode, "_key", lambda self, context: None)
    plain = {path: header(client.get(path)) for path in paths}
    token = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')
    for path in paths:
        assert token.sub(r"\1…", memo[path]) == token.sub(r"\1…", plain[path])
        assert token.sub(r"\1…", memo_again[path]) == token.sub(r"\1…", plain[path])
    assert 'value="/openness/search/?q=%E8%A1%A5%E8%B4%B4&amp;x=%22%3Cb%3E"' in memo_again[paths[0]]
    assert "yiciban-layout-memo" not in "".join(memo_again.values())
    client.cookies["yiciban_large_type"] = "1"
    monkeypatch.undo()
    assert 'value="off"' in header(client.get(paths[1]))  # another variant, not the first


def test_result_items_tag_is_the_template_loop_it_replaced(place):
    from django.template import engines

    _corpus(place)
    odd = selectors.SearchRow(
        url="/a/1/?x=1&y=<", title='<b>"t"</b>', region="&", column="'c'", date="d", excerpt="<"
    )
    rows = [*selectors.search_page_rows("补贴").rows, odd]
    loop = engines["django"].from_string(
        '{% for row in rows %}\n    <li><a href="{{ row.url }}">{{ row.title }}</a>\n'
        '      <span class="meta">{{ row.region }} · {{ row.column }} · {{ row.date }}</span>\n'
        "      <p>{{ row.excerpt }}</p></li>\n    {% endfor %}"
    )
    tag = engines["django"].from_string("{% load openness_search %}{% search_result_items rows %}")
    assert len(rows) > 1
    assert tag.render({"rows": rows}) == loop.render({"rows": rows})
    assert tag.render({"rows": []}) == loop.render({"rows": []}) == ""
