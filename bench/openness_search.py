"""Benchmark: Chinese search over openness articles (jieba + BM25 in SQL, see
src/yiciban/core/search.py), in process, on whatever database DATABASE_URL names.

It creates a throwaway test database (test_<name>, or an in-memory SQLite one), fills it
with generated articles published across a county's three levels, runs a set of realistic
queries and prints the median and 95th percentile latency of one ranked page (20 results,
with the total count and excerpts). Nothing of an existing database is touched.

    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/openness_search.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \\
        bench/openness_search.py --articles 5000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")

TOPICS = [
    ("耕地地力保护补贴", "livelihood_funds"),
    ("城乡低保资金", "livelihood_funds"),
    ("特困人员供养", "livelihood_funds"),
    ("农村危房改造补助", "livelihood_funds"),
    ("一般公共预算", "budget_accounts"),
    ("部门决算", "budget_accounts"),
    ("“三公”经费", "budget_accounts"),
    ("农村公路养护", "procurement"),
    ("校舍维修改造", "procurement"),
    ("自助服务终端", "procurement"),
    ("疫情防控", "epidemic"),
    ("新冠疫苗接种", "epidemic"),
    ("复工复产政策兑现", "six_stabilities"),
    ("稳岗返还", "six_stabilities"),
    ("创业担保贷款", "six_stabilities"),
    ("一件事一次办", "service_info"),
    ("跨省通办", "service_info"),
    ("不动产登记", "service_info"),
    ("双随机一公开抽查", "supervision_info"),
    ("行政执法公示", "supervision_info"),
    ("党支部换届选举", "party_affairs"),
    ("村级财务收支", "finance"),
    ("村务监督委员会", "public_affairs"),
    ("防汛抗旱", "public_affairs"),
    ("机构职能", "organisation"),
]
FORMS = [
    "{place}{year}年{topic}情况公示",
    "关于{place}{topic}工作的通知",
    "{place}{year}年第{q}季度{topic}公开",
    "{place}{topic}实施方案",
    "《{place}{topic}管理办法》政策解读",
    "{place}{topic}结果公告",
]
SENTENCES = [
    "根据县委、县政府统一部署，现将有关情况公示如下。",
    "公示期为七天，如有异议请在公示期内向{place}反映，联系电话12345。",
    "本项工作按照公开、公平、公正的原则组织实施，接受群众监督。",
    "资金已通过惠民惠农财政补贴资金“一卡通”发放到户。",
    "各有关单位要高度重视，明确责任分工，确保各项措施落实到位。",
    "申请人可通过“岳办岳好”华容站在线办理，实现“掌上查、掌上问、掌上办”。",
    "{topic}工作由{place}人民政府负责组织实施。",
    "详细名单见附件，请相关群众及时核对。",
]
QUERIES = [
    "耕地补贴",
    "低保资金发放",
    "预算公开",
    "三公经费",
    "农村公路",
    "疫苗接种时间",
    "复工复产",
    "稳岗返还怎么申请",
    "一件事一次办",
    "跨省通办事项",
    "不动产登记",
    "双随机抽查结果",
    "党支部选举",
    "村级财务",
    "防汛",
    "政策解读",
    "危房改造补助标准",
    "创业担保贷款",
    "行政执法",
    "章华镇 公示",
]

# Words of the generated articles, for queries no result cache has seen (--distinct runs).
VOCABULARY = [
    "耕地", "补贴", "低保", "资金", "特困", "供养", "危房", "改造", "预算", "决算", "三公",
    "经费", "公路", "养护", "校舍", "维修", "终端", "疫情", "防控", "疫苗", "复工", "复产",
    "稳岗", "返还", "创业", "担保", "贷款", "跨省", "通办", "不动产", "登记", "抽查",
    "执法", "党支部", "换届", "财务", "监督", "防汛", "抗旱", "机构", "职能", "公示",
    "通知", "实施方案", "管理办法", "政策解读", "结果公告", "章华镇", "插旗镇", "华容县",
]  # fmt: skip


def distinct_queries(count: int, seed: int = 7) -> list[str]:
    """`count` different queries of two words of VOCABULARY (then three), in a shuffled
    but repeatable order: no two ask for the same set of words."""
    from itertools import combinations

    rng = random.Random(seed)
    queries: list[str] = []
    for size in (2, 3):
        group = [" ".join(words) for words in combinations(VOCABULARY, size)]
        rng.shuffle(group)
        queries.extend(group)
        if len(queries) >= count:
            break
    if len(queries) < count:
        raise ValueError(f"at most {len(queries)} distinct queries")
    return queries[:count]


def _corpus(regions, columns_by_region, count, rng):
    for n in range(count):
        region = regions[n % len(regions)]
        topic, kind = rng.choice(TOPICS)
        column = columns_by_region[region.pk].get(kind) or columns_by_region[region.pk]["policy"]
        values = {
            "place": region.name,
            "year": rng.choice([2019, 2020, 2021]),
            "q": rng.randint(1, 4),
            "topic": topic,
        }
        title = rng.choice(FORMS).format(**values)
        body = "".join(rng.choice(SENTENCES).format(**values) for _n in range(rng.randint(4, 10)))
        yield column, region, title, body


def populate(count: int, seed: int) -> float:
    """Regions of a county (county, 7 townships, 35 villages), their columns and `count`
    published articles, indexed with the services' code; returns the seconds it took."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from yiciban.openness import search
    from yiciban.openness.models import Article, ArticleStatus, Column, ColumnKind
    from yiciban.openness.text import render_body
    from yiciban.org.models import Region, RegionLevel

    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():
        province = Region.objects.create(
            code="430000000000", name="湖南省", level=RegionLevel.PROVINCE, path="430000000000"
        )
        county = Region.objects.create(
            code="430623000000",
            name="华容县",
            level=RegionLevel.COUNTY,
            parent=province,
            path=f"{province.path}/430623000000",
        )
        regions = [county]
        names = ["章华镇", "治河渡镇", "北景港镇", "鲇鱼须镇", "万庾镇", "插旗镇", "注滋口镇"]
        for t, name in enumerate(names):
            code = f"430623{100 + t:03d}000"
            township = Region.objects.create(
                code=code,
                name=name,
                level=RegionLevel.TOWNSHIP,
                parent=county,
                path=f"{county.path}/{code}",
            )
            regions.append(township)
            for v in range(1, 6):
                vcode = f"{code[:9]}{200 + v:03d}"
                regions.append(
                    Region.objects.create(
                        code=vcode,
                        name=f"{name[:-1]}第{v}村",
                        level=RegionLevel.VILLAGE,
                        parent=township,
                        path=f"{township.path}/{vcode}",
                    )
                )
        columns_by_region = {}
        for region in regions:
            columns_by_region[region.pk] = {
                kind: Column.objects.create(
                    region=region, kind=kind, name=str(ColumnKind(kind).label)
                )
                for kind in ColumnKind.values
            }
        author = get_user_model().objects.create(username="bench")
        now = timezone.now()
        Article.objects.bulk_create(
            (
                Article(
                    column=column,
                    region=region,
                    title=title,
                    body_source=body,
                    body_html=render_body(body, "markdown"),
                    mode="self",
                    status=ArticleStatus.PUBLISHED,
                    publish_at=now - timezone.timedelta(minutes=rng.randint(1, 500_000)),
                    published_at=now,
                    created_by=author,
                )
                for column, region, title, body in _corpus(regions, columns_by_region, count, rng)
            ),
            batch_size=500,
        )
        search.rebuild_index()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=10, help="runs of each query")
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from yiciban.openness import selectors
    from yiciban.openness.models import SearchPosting

    setup_test_environment()
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        load_seconds = populate(args.articles, args.seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

        # warm up: jieba's dictionary and the database caches
        for query in QUERIES:
            selectors.articles_search(query)
        timings = []
        hits = []
        for _round in range(args.repeat):
            for query in QUERIES:
                t0 = time.perf_counter()
                page = selectors.articles_search(query, limit=20)
                timings.append((time.perf_counter() - t0) * 1000)
                hits.append(page.count)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(
            f"database={connection.vendor} articles={args.articles} "
            f"postings={SearchPosting.objects.count()} load={load_seconds:.1f}s"
        )
        print(
            f"queries={len(timings)} median={statistics.median(timings):.2f}ms "
            f"p95={p95:.2f}ms max={timings[-1]:.2f}ms mean_hits={statistics.mean(hits):.0f}"
        )
    finally:
        connection.creation.destroy_test_db(test_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
