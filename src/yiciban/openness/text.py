"""Article bodies and search tokens.

Bodies: Markdown is rendered by markdown-it-py (CommonMark, raw HTML disabled, tables on)
and the result — like bodies written as HTML — is sanitised by nh3 (the Rust `ammonia`
sanitiser) with an allow-list: no scripts, styles, event handlers, images or iframes (a
hall screen must never fetch anything from outside), links only http(s)/mailto/relative.

Tokens: the shared search tokenizer (yiciban.core.search.Tokenizer: jieba's search mode,
so "华容县" also matches "华容", with a private dictionary) with openness's stopwords and
domain words."""

from __future__ import annotations

import html
import re
from collections import Counter

import nh3
from markdown_it import MarkdownIt

from yiciban.core.search import Tokenizer

from .models import BodyFormat

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s",
    "sub", "sup", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr",
    "th", "td", "caption", "a", "code", "pre", "span", "div", "dl", "dt", "dd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render_body(source: str, body_format: str) -> str:
    """The HTML that may be shown for a body: always sanitised, whatever the format."""
    if body_format == BodyFormat.MARKDOWN:
        return sanitize_html(_markdown.render(source))
    return sanitize_html(source)


def plain_text(body_html: str) -> str:
    """Text of sanitised HTML, for excerpts, screens, print and SMS."""
    blocks = re.sub(r"</(p|h[1-6]|li|tr|div|blockquote)>|<br>", "\n", body_html)
    blocks = re.sub(r"</t[dh]>", " ", blocks)
    text = html.unescape(nh3.clean(blocks, tags=set()))
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


# --- tokens ------------------------------------------------------------------------------

# Words that occur in nearly every government text or carry no meaning alone; dropping
# them keeps the index small and the ranking on the words that matter.
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 是 在 对 为 将 由 于 以 把 被 从 向 其 之 也 都 并 而 就 则 "
    "有 无 个 这 那 一 上 下 中 我 你 他 她 它 们 吗 呢 吧 啊 请 问 怎么 如何 什么 哪些 "
    "哪里 可以 需要 关于 进行 有关 相关".split()
)
# Domain words jieba's general dictionary splits badly.
DOMAIN_WORDS = (
    "政务公开", "依申请公开", "信息公开", "六稳六保", "复工复产", "预决算", "政府采购",
    "民生资金", "惠农补贴", "一件事一次办", "跨省通办", "全城通办", "双随机", "一公开",
    "营商环境", "便民服务", "政策解读", "疫情防控", "村务公开", "党务公开", "财务公开",
    "事务公开", "机构公开", "华容县", "岳办岳好", "12345",
)  # fmt: skip
MAX_TERM_LENGTH = 40

tokenizer = Tokenizer(
    stopwords=STOPWORDS, max_term_length=MAX_TERM_LENGTH, words=DOMAIN_WORDS, word_freq=20000
)


def tokens(text: str) -> list[str]:
    """Search terms of a text (with repeats, in order)."""
    return tokenizer.tokens(text)


def query_terms(query: str) -> list[str]:
    """Distinct terms of a search query, in order."""
    return list(dict.fromkeys(tokens(query)))


def weighted_terms(*, title: str, summary: str, body_text: str) -> Counter[str]:
    """Term frequencies of an article; a title word counts three times, a summary word
    twice, because a match there says more about what the article is."""
    return tokenizer.weighted_terms([(title, 3), (summary, 2), (body_text, 1)])


def excerpt(text: str, terms: list[str], length: int = 120) -> str:
    """A piece of text around the first term found, for result lists."""
    lowered = text.lower()
    positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
    if not positions:
        return text[:length] + ("…" if len(text) > length else "")
    start = max(0, min(positions) - length // 4)
    piece = text[start : start + length]
    return ("…" if start else "") + piece + ("…" if start + length < len(text) else "")
