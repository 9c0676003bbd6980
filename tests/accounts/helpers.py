"""Valid generated identifiers and small builders for the accounts tests."""

from __future__ import annotations

from yiciban.core.identifiers import make_uscc, resident_id_check_char
from yiciban.org.models import Role


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


ZHANGSAN_ID = resident_id("43062319880312021")
LISI_ID = resident_id("43062419900101002")
WANGWU_ID = resident_id("43112719750918003")
HUARONG_FOOD_USCC = make_uscc(authority="9", category="1", region="430623", org_body="MA4PK2N8")
XIANGYIN_SHOP_USCC = make_uscc(authority="9", category="1", region="430624", org_body="MA4QW3E7")


def huarong_clerk(tree):
    from tests.org.fixtures import UserFactory, assign

    clerk = UserFactory(username="huarong_clerk_t")
    assign(clerk, Role.COUNTER_CLERK, region=tree.huarong)
    return clerk
