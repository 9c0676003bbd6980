"""In-process benchmark of the 12345 knowledge search (jieba + BM25 over the posting table,
synonyms at query time), as GET /api/v1/knowledge runs it.

    .venv/bin/python bench/hotline_knowledge.py [--entries 5000] [--repeat 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \\
        bench/hotline_knowledge.py --entries 5000

Creates a scratch test database (test_<name> on PostgreSQL, a temporary SQLite file
otherwise), generates --entries knowledge entries from realistic templates (topics ×
question forms × answer sentences of a county service centre), builds the index with the
same code the services use, loads the demo synonym table, then times selectors.knowledge_search
(limit 10) for 30 paraphrased questions, --repeat times each, after one warm-up round.
Reports median, 95th percentile and mean in milliseconds, with the machine's CPU.
BENCH_DETAIL=1 also prints each query's median, the postings it reads and its concepts."""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TOPICS = [
    ("营业执照", "market_regulation"),
    ("食品经营许可证", "market_regulation"),
    ("个体工商户登记", "market_regulation"),
    ("居民身份证", "public_security"),
    ("户口迁移", "public_security"),
    ("出生登记", "public_security"),
    ("居住证", "public_security"),
    ("社会保障卡", "human_resources_social_security"),
    ("养老保险", "human_resources_social_security"),
    ("失业保险金", "human_resources_social_security"),
    ("职业技能培训补贴", "human_resources_social_security"),
    ("城乡居民医疗保险", "medical_security"),
    ("异地就医备案", "medical_security"),
    ("门诊慢特病", "medical_security"),
    ("住房公积金提取", "housing_fund"),
    ("住房公积金贷款", "housing_fund"),
    ("不动产登记", "natural_resources"),
    ("不动产权证书", "natural_resources"),
    ("抵押登记", "natural_resources"),
    ("宅基地审批", "natural_resources"),
    ("义务教育入学", "education"),
    ("学生资助", "education"),
    ("最低生活保障", "civil_affairs"),
    ("婚姻登记", "civil_affairs"),
    ("残疾人补贴", "civil_affairs"),
    ("高龄津贴", "civil_affairs"),
    ("个人所得税汇算", "tax"),
    ("发票申领", "tax"),
    ("驾驶证换证", "public_security"),
    ("农村客运", "transport"),
    ("物业服务", "housing_construction"),
    ("老旧小区改造", "housing_construction"),
    ("建筑施工许可", "housing_construction"),
    ("排污许可", "ecology_environment"),
    ("取水许可", "water_resources"),
    ("耕地地力保护补贴", "agriculture_rural"),
    ("家庭医生签约", "health"),
    ("出生医学证明", "health"),
    ("烟草专卖零售许可", "tobacco"),
    ("网吧经营许可", "culture_tourism"),
]
FORMS = [
    "{topic}怎么办理？",
    "{topic}需要哪些材料？",
    "{topic}在哪里办？",
    "{topic}多长时间能办好？",
    "{topic}可以网上办理吗？",
    "{topic}收费吗？",
    "{place}{topic}的办理流程是什么？",
    "{topic}丢失了怎么补办？",
    "{topic}变更需要什么手续？",
    "{topic}的条件和标准是什么？",
    "外地户籍能在{place}申请{topic}吗？",
    "{topic}办理进度怎么查询？",
]
SENTENCES = [
    "申请人携带身份证原件到{place}政务服务中心{topic}窗口办理。",
    "也可以登录“湘易办”或湖南政务服务网在线申请，全程网办不用跑腿。",
    "材料齐全、符合法定形式的，当场办结；需要核查的，在{days}个工作日内办结。",
    "本事项不收取费用。",
    "委托他人代办的，还需提供授权委托书和代理人身份证。",
    "办理进度可拨打12345热线或在“我的诉求”中查询。",
    "对办理结果有异议的，可依法申请行政复议或者提起行政诉讼。",
    "行动不便的群众可预约帮办代办或上门服务。",
    "相关政策以{year}年度最新文件为准。",
    "{place}各乡镇便民服务中心已下沉受理，可就近办理。",
]
PLACES = ["华容县", "章华镇", "治河渡镇", "北景港镇", "万庾镇", "插旗镇", "注滋口镇", "东山镇"]
QUERIES = [
    "办营业证要带什么",
    "执照丢了怎么补",
    "开小吃店要办什么证",
    "身份证掉了去哪补",
    "小孩上户口",
    "外地人办居住证",
    "社保卡怎么领",
    "养老金怎么交",
    "失业了能领钱吗",
    "医保在外地看病怎么报",
    "慢性病门诊报销",
    "公积金怎么取出来",
    "公积金贷款流程",
    "房产证什么时候能办",
    "二手房过户",
    "农村建房审批",
    "孩子上小学报名",
    "困难家庭申请低保",
    "领结婚证要带什么",
    "残疾人有什么补贴",
    "个税退税",
    "怎么开发票",
    "驾照到期换证",
    "物业乱收费",
    "种粮补贴怎么领",
    "家庭医生怎么签",
    "出生证丢了",
    "开网吧要什么手续",
    "卖烟要办证吗",
    "排污许可证办理",
]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _corpus(count: int, rng: random.Random):
    for n in range(count):
        topic, kind = TOPICS[n % len(TOPICS)]
        values = {
            "topic": topic,
            "place": rng.choice(PLACES),
            "days": rng.choice([1, 3, 5, 7, 10, 15, 20]),
            "year": rng.choice([2023, 2024, 2025]),
        }
        question = rng.choice(FORMS).format(**values)
        answer = "".join(rng.choice(SENTENCES).format(**values) for _ in range(rng.randint(3, 7)))
        yield question, answer, kind, [topic]


def _server_version(connection) -> str:
    if connection.vendor == "postgresql":
        version = connection.pg_version
        return f"{version // 10000}.{version % 10000}"
    import sqlite3

    return sqlite3.sqlite_version


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20, help="runs of each query")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the scratch database and reuse it when it already holds --entries entries",
    )
    parser.add_argument("--reindex", action="store_true", help="with --keep: rebuild the index")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        folder = tempfile.mkdtemp(prefix="yiciban-bench-")
        os.environ.setdefault("YICIBAN_INSTANCE_DIR", folder)
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiciban.settings")

    import django

    django.setup()
    import yaml
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment

    from yiciban.core.identifiers import make_uscc
    from yiciban.hotline import search, selectors
    from yiciban.hotline.models import (
        KnowledgeEntry,
        KnowledgeIndexStats,
        KnowledgeStatus,
        SynonymGroup,
        SynonymTerm,
    )
    from yiciban.org.models import Department, Region, RegionLevel

    setup_test_environment()
    if connection.vendor == "sqlite":
        # A file, not the in-memory default: the figures should include real I/O paths.
        connection.settings_dict["TEST"]["NAME"] = str(
            Path(os.environ.get("YICIBAN_INSTANCE_DIR", tempfile.gettempdir()))
            / "bench_test.sqlite3"
        )
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(
        verbosity=0, autoclobber=True, keepdb=args.keep, serialize=False
    )
    try:
        if args.keep and KnowledgeEntry.objects.count() == args.entries:
            _measure(args, search, selectors, connection, transaction, build=None)
            return 0
        if args.keep:
            KnowledgeEntry.objects.all().delete()
            SynonymGroup.objects.all().delete()
            Department.objects.all().delete()
            Region.objects.all().delete()
        rng = random.Random(args.seed)
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
        departments = {}
        for index, (_topic, kind) in enumerate(TOPICS):
            if kind not in departments:
                departments[kind] = Department.objects.create(
                    region=county,
                    name=f"华容县{kind}",
                    kind=kind,
                    uscc=make_uscc(
                        authority="1", category="1", region="430623", org_body=f"BE{index:06d}"
                    ),
                )
        fixture = ROOT / "src/yiciban/hotline/fixtures/demo_knowledge.yaml"
        groups = yaml.safe_load(fixture.read_text(encoding="utf-8"))["synonyms"]
        with transaction.atomic():
            for terms in groups:
                terms = [str(t).lower() for t in terms]
                group = SynonymGroup.objects.create(name=terms[0], terms=terms)
                SynonymTerm.objects.bulk_create(SynonymTerm(group=group, term=t) for t in terms)
            KnowledgeIndexStats.objects.update_or_create(pk=1, defaults={"synonyms_stamp": 1})
        search.forget_loaded_synonyms()

        started = time.perf_counter()
        with transaction.atomic():
            KnowledgeEntry.objects.bulk_create(
                (
                    KnowledgeEntry(
                        region=county,
                        question=question,
                        answer=answer,
                        department=departments[kind],
                        tags=tags,
                        status=KnowledgeStatus.PUBLISHED,
                    )
                    for question, answer, kind, tags in _corpus(args.entries, rng)
                ),
                batch_size=1000,
            )
            indexed = search.rebuild_index()
        build_seconds = time.perf_counter() - started
        _measure(args, search, selectors, connection, transaction, build=(indexed, build_seconds))
    finally:
        if not args.keep:
            connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


def _measure(args, search, selectors, connection, transaction, *, build) -> None:
    if build is None and args.reindex:
        started = time.perf_counter()
        with transaction.atomic():
            build = (search.rebuild_index(), time.perf_counter() - started)
    if build is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # visibility map for index-only scans
    postings = search.KnowledgePosting.objects.count()
    for query in QUERIES:  # warm-up: tokenizer, caches, plans
        selectors.knowledge_search(query=query, limit=10)
    timings: list[float] = []
    found = 0
    for _round in range(args.repeat):
        for query in QUERIES:
            t0 = time.perf_counter()
            results = selectors.knowledge_search(query=query, limit=10)
            timings.append((time.perf_counter() - t0) * 1000)
            found += bool(results.hits)
    if os.environ.get("BENCH_DETAIL"):
        per_query: dict[str, list[float]] = {}
        for query in QUERIES:
            for _ in range(5):
                t0 = time.perf_counter()
                selectors.knowledge_search(query=query, limit=10)
                per_query.setdefault(query, []).append((time.perf_counter() - t0) * 1000)
            concepts = search.query_concepts(query)
            terms = {t for c in concepts for t in c.terms}
            rows = search.KnowledgePosting.objects.filter(term__in=terms).count()
            t0 = time.perf_counter()
            for _ in range(5):
                search.tokens(query)
            tok = (time.perf_counter() - t0) * 200
            print(
                f"{statistics.median(per_query[query]):7.2f} ms  postings {rows:6d}  "
                f"tokenize {tok:.3f} ms  {query} {[c.terms[0] for c in concepts]}"
            )
    print(f"machine      {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"database     {connection.vendor} {_server_version(connection)}")
    if build is not None:
        print(f"entries      {build[0]} indexed, built in {build[1]:.1f} s")
    print(f"postings     {postings}")
    print(f"queries      {len(QUERIES)} × {args.repeat} (limit 10), {found} with hits")
    print(
        f"latency ms   median {statistics.median(timings):.2f}  "
        f"p95 {_percentile(timings, 0.95):.2f}  mean {statistics.mean(timings):.2f}  "
        f"max {max(timings):.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
