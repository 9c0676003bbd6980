import datetime as dt

import pytest

from yiciban.core.errors import Conflict, PermissionDenied, ValidationFailed
from yiciban.core.models import AuditEvent
from yiciban.hotline import search, selectors, services
from yiciban.hotline.models import KnowledgeIndexStats, KnowledgePosting, KnowledgeStatus

ENTRIES = [
    (
        "个体工商户怎么办理营业执照？",
        "携带经营者身份证和经营场所使用证明，到县政务服务中心市场监管窗口或登录湖南省企业登记"
        "全程电子化业务系统申请，材料齐全的当场办结。",
        ["市场主体登记"],
    ),
    (
        "居民身份证丢失后怎样补领？",
        "本人携带户口簿到户籍所在地或居住地公安机关户政窗口申请补领，现场采集人像，"
        "约20个工作日领取新证。",
        ["户政"],
    ),
    (
        "社会保险关系如何跨省转移？",
        "参保人向新就业地社保经办机构提出转入申请，经办机构通过全国社会保险关系转移系统办理，"
        "转出地在15个工作日内完成转出。",
        ["社会保障"],
    ),
    (
        "住房公积金提取需要哪些材料？",
        "购房提取需提供购房合同和发票，租房提取需提供租赁备案证明，可在公积金网厅或窗口办理。",
        ["公积金"],
    ),
    (
        "新生儿如何办理出生登记（上户口）？",
        "持出生医学证明和父母户口簿、结婚证，到父或母户籍所在地派出所申报出生登记。",
        ["户政"],
    ),
]


@pytest.fixture
def synonyms(operator):
    services.synonym_group_create(
        actor=operator, name="营业执照", terms=["营业执照", "执照", "工商登记", "营业证"]
    )
    services.synonym_group_create(actor=operator, name="身份证", terms=["身份证", "居民身份证"])
    services.synonym_group_create(actor=operator, name="社保", terms=["社保", "社会保险"])
    services.synonym_group_create(
        actor=operator, name="上户口", terms=["上户口", "落户", "户口登记"]
    )


@pytest.fixture
def entries(operator, huarong, market, synonyms):
    made = []
    for question, answer, tags in ENTRIES:
        made.append(
            services.knowledge_entry_create(
                actor=operator,
                region=huarong,
                question=question,
                answer=answer,
                department=market if "营业执照" in question else None,
                tags=tags,
                publish=True,
            )
        )
    return made


def _top(query, **kwargs):
    results = selectors.knowledge_search(query=query, **kwargs)
    return [hit.entry.question for hit in results.hits], results


def test_search_finds_the_right_entry_first(entries):
    questions, results = _top("住房公积金怎么提取")
    assert questions[0] == "住房公积金提取需要哪些材料？"
    assert results.hits[0].score > 0
    scores = [hit.score for hit in results.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("办营业证要带什么", "个体工商户怎么办理营业执照？"),
        ("执照怎么申请", "个体工商户怎么办理营业执照？"),
        ("工商登记", "个体工商户怎么办理营业执照？"),
        ("身份证掉了怎么办", "居民身份证丢失后怎样补领？"),
        ("社保转到外省", "社会保险关系如何跨省转移？"),
        ("小孩落户", "新生儿如何办理出生登记（上户口）？"),
    ],
)
def test_synonyms_find_entries_that_use_another_word(entries, query, expected):
    questions, _results = _top(query)
    assert questions, f"nothing found for {query}"
    assert questions[0] == expected


def test_irrelevant_entries_are_not_returned(entries):
    questions, results = _top("公积金")
    assert questions == ["住房公积金提取需要哪些材料？"]
    assert results.count == 1
    questions, results = _top("挖掘机驾驶培训")
    assert questions == [] and results.count == 0


def test_query_terms_report_synonyms(entries):
    _questions, results = _top("营业证")
    assert ["营业证", "工商登记", "执照", "营业执照"] in results.terms


def test_empty_and_too_long_queries_are_refused(entries):
    with pytest.raises(ValidationFailed) as empty:
        selectors.knowledge_search(query="   ")
    assert empty.value.errors[0].field == "q" and empty.value.errors[0].rule == "required"
    with pytest.raises(ValidationFailed) as long:
        selectors.knowledge_search(query="营" * 101)
    assert long.value.errors[0].rule == "max_length"


def test_stopword_only_query_finds_nothing(entries):
    results = selectors.knowledge_search(query="请问这个怎么样？")
    assert results.count == 0 and results.hits == []


def test_pagination_keeps_order_and_count(entries):
    everything = selectors.knowledge_search(query="办理 户口 身份证 社保 公积金 执照", limit=50)
    first = selectors.knowledge_search(query="办理 户口 身份证 社保 公积金 执照", limit=2)
    second = selectors.knowledge_search(
        query="办理 户口 身份证 社保 公积金 执照", limit=2, offset=2
    )
    beyond = selectors.knowledge_search(
        query="办理 户口 身份证 社保 公积金 执照", limit=2, offset=40
    )
    ids = [h.entry.pk for h in everything.hits]
    assert [h.entry.pk for h in first.hits] == ids[:2]
    assert [h.entry.pk for h in second.hits] == ids[2:4]
    assert first.count == second.count == everything.count == beyond.count == len(ids)
    assert beyond.hits == []


def test_drafts_and_expired_entries_are_not_found(operator, huarong, synonyms):
    draft = services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        question="不动产登记证明怎么查询",
        answer="到不动产登记中心查询。",
    )
    assert selectors.knowledge_search(query="不动产登记").count == 0
    services.knowledge_entry_publish(actor=operator, entry=draft)
    assert selectors.knowledge_search(query="不动产登记").count == 1
    services.knowledge_entry_update(
        actor=operator,
        entry=draft,
        valid_from=dt.date(2020, 1, 1),
        valid_until=dt.date(2020, 12, 31),
    )
    assert selectors.knowledge_search(query="不动产登记").count == 0
    assert selectors.knowledge_search(query="不动产登记", today=dt.date(2020, 6, 1)).count == 1
    services.knowledge_entry_update(actor=operator, entry=draft, valid_until=None, valid_from=None)
    services.knowledge_entry_unpublish(actor=operator, entry=draft)
    assert selectors.knowledge_search(query="不动产登记").count == 0
    assert not KnowledgePosting.objects.filter(entry=draft).exists()


def test_update_reindexes_and_keeps_statistics(entries, operator):
    stats = KnowledgeIndexStats.objects.get(pk=1)
    assert stats.document_count == len(ENTRIES)
    assert stats.total_length == sum(e.index_length for e in entries)
    entry = entries[3]
    services.knowledge_entry_update(
        actor=operator,
        entry=entry,
        question="住房公积金贷款额度怎么算？",
        answer="按缴存余额的倍数计算。",
    )
    assert _top("贷款额度")[0] == ["住房公积金贷款额度怎么算？"]
    assert _top("租赁备案")[0] == []
    entry.refresh_from_db()
    stats.refresh_from_db()
    assert stats.total_length == sum(
        e.index_length for e in type(entry).objects.filter(status=KnowledgeStatus.PUBLISHED)
    )
    assert AuditEvent.objects.filter(action="hotline.knowledge_entry_update").exists()


def test_rebuild_gives_the_same_ranking(entries, admin_user):
    before = [(h.entry.pk, h.score) for h in selectors.knowledge_search(query="身份证 户口").hits]
    assert services.knowledge_index_rebuild(actor=admin_user) == len(ENTRIES)
    after = [(h.entry.pk, h.score) for h in selectors.knowledge_search(query="身份证 户口").hits]
    assert before == after


def test_question_matches_rank_above_answer_mentions(operator, huarong):
    services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        question="驾驶证到期怎么换证？",
        answer="到车管所或通过交管12123申请换证。",
        publish=True,
    )
    services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        question="机动车年检在哪里？",
        answer="到检测站年检，年检时需出示驾驶证以外的行驶证。",
        publish=True,
    )
    assert _top("驾驶证")[0][0] == "驾驶证到期怎么换证？"


def test_region_filter_includes_entries_from_above(
    operator, huarong, lanshan, province, admin_user
):
    services.knowledge_entry_create(
        actor=admin_user,
        region=province,
        question="湖南省社保卡怎么激活",
        answer="到银行网点激活。",
        publish=True,
    )
    services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        question="华容县社保卡补办地点",
        answer="县社保局一楼。",
        publish=True,
    )
    in_lanshan = _top("社保卡", region=lanshan)[0]
    assert in_lanshan == ["湖南省社保卡怎么激活"]
    assert len(_top("社保卡", region=huarong)[0]) == 2


def test_synonym_change_takes_effect_and_reindexes(operator, huarong):
    entry = services.knowledge_entry_create(
        actor=operator,
        region=huarong,
        question="最低生活保障怎么申请",
        answer="向乡镇民政办提出申请。",
        publish=True,
    )
    assert _top("低保")[0] == []
    group = services.synonym_group_create(
        actor=operator, name="低保", terms=["低保", "最低生活保障"]
    )
    assert KnowledgePosting.objects.filter(entry=entry, term="最低生活保障").exists()
    assert _top("低保")[0] == ["最低生活保障怎么申请"]
    services.synonym_group_delete(actor=operator, group=group)
    assert _top("低保")[0] == []


def test_synonym_refusals(operator, synonyms, market_staff):
    with pytest.raises(ValidationFailed) as taken:
        services.synonym_group_create(actor=operator, name="执照2", terms=["执照", "牌照"])
    assert taken.value.errors[0].rule == "unique"
    with pytest.raises(ValidationFailed) as single:
        services.synonym_group_create(actor=operator, name="单个", terms=["单个", "单个 "])
    assert single.value.errors[0].rule == "min_items"
    with pytest.raises(PermissionDenied):
        services.synonym_group_create(actor=market_staff, name="医保", terms=["医保", "医疗保险"])


def test_curation_rights(huarong, lanshan, market, market_admin, market_staff, lanshan_operator):
    entry = services.knowledge_entry_create(
        actor=market_admin,
        region=huarong,
        department=market,
        question="食品经营许可怎么办",
        answer="到市场监管窗口申请。",
    )
    assert entry.status == KnowledgeStatus.DRAFT
    with pytest.raises(PermissionDenied):
        services.knowledge_entry_create(
            actor=market_admin, region=huarong, question="无部门条目", answer="答复"
        )
    with pytest.raises(PermissionDenied):
        services.knowledge_entry_publish(actor=market_staff, entry=entry)
    with pytest.raises(PermissionDenied):
        services.knowledge_entry_publish(actor=lanshan_operator, entry=entry)
    services.knowledge_entry_publish(actor=market_admin, entry=entry)
    with pytest.raises(Conflict):
        services.knowledge_entry_publish(actor=market_admin, entry=entry)


def test_entry_validation(operator, huarong, lanshan_market):
    with pytest.raises(ValidationFailed) as bad:
        services.knowledge_entry_create(
            actor=operator,
            region=huarong,
            question="",
            answer="答" * 5001,
            valid_from=dt.date(2025, 2, 1),
            valid_until=dt.date(2025, 1, 1),
        )
    rules = {(e.field, e.rule) for e in bad.value.errors}
    assert rules == {
        ("question", "required"),
        ("answer", "max_length"),
        ("valid_until", "after_valid_from"),
    }


def test_entry_outside_region_department_refused(admin_user, huarong, lanshan_market):
    with pytest.raises(ValidationFailed) as bad:
        services.knowledge_entry_create(
            actor=admin_user, region=huarong, department=lanshan_market, question="问", answer="答"
        )
    assert bad.value.errors[0].rule == "out_of_region"


def test_upsert_from_source_creates_then_updates(market, huarong):
    entry = services.knowledge_entry_upsert_from_source(
        actor=None,
        source_kind="item_guide",
        source_id="430623-MR-001",
        question="食品经营许可证办理指南",
        answer="申请材料：申请书、营业执照、场所平面图。承诺时限5个工作日。",
        department=market,
        tags=["办事指南"],
    )
    assert entry.region == huarong and entry.status == KnowledgeStatus.PUBLISHED
    again = services.knowledge_entry_upsert_from_source(
        actor=None,
        source_kind="item_guide",
        source_id="430623-MR-001",
        question="食品经营许可证办理指南（2025年版）",
        answer="申请材料：申请书、营业执照。承诺时限3个工作日。",
        department=market,
    )
    assert again.pk == entry.pk
    assert _top("食品经营许可")[0] == ["食品经营许可证办理指南（2025年版）"]
    services.knowledge_entry_withdraw_from_source(
        actor=None, source_kind="item_guide", source_id="430623-MR-001"
    )
    assert _top("食品经营许可")[0] == []
    with pytest.raises(ValidationFailed):
        services.knowledge_entry_upsert_from_source(
            actor=None,
            source_kind="curated",
            source_id="1",
            question="q",
            answer="a",
            department=market,
        )


def test_tokens_drop_stopwords_and_punctuation():
    assert search.tokens("请问，怎么办理营业执照？") == ["办理", "营业", "执照", "营业执照"]
