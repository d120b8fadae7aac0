"""The widget's languages: complete texts, how a language is chosen, the page per language."""

import html
import json
import re
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.api import languages, widget_assets
from authkong.api.languages import LANGUAGES, choose, match

ENGLISH_KEYS = list(LANGUAGES["en"].texts)
REQUIRED = (  # noqa: SIM905  (as a list literal, one line per tag)
    "ar bg ca cs da de el en es et fa fi fr he hi hr hu id it ja ko lt lv ms nb nl pl pt "
    "pt-BR ro ru sk sl sr sv th tr uk ur vi zh-CN zh-TW"
).split()
TEXTS_BLOCK = re.compile(r'<script id="texts" type="application/json">(.*?)</script>', re.DOTALL)


def frame_template() -> str:
    return files("authkong.widget").joinpath("frame/frame.html").read_text("utf-8")


def test_enough_languages_and_the_required_ones() -> None:
    """At least 30 languages, among them every one the widget promises."""
    assert len(LANGUAGES) >= 30
    assert set(REQUIRED) <= set(LANGUAGES)


@pytest.mark.parametrize("tag", sorted(LANGUAGES))
def test_language_has_every_english_text(tag: str) -> None:
    """Each language has exactly English's keys, in English's order, and no blank text."""
    texts = LANGUAGES[tag].texts
    assert list(texts) == ENGLISH_KEYS
    assert all(text.strip() == text and text for text in texts.values())
    assert LANGUAGES[tag].tag == tag


def test_right_to_left_languages() -> None:
    """Arabic, Persian, Hebrew and Urdu are right-to-left, every other language left-to-right."""
    rtl = {tag for tag, language in LANGUAGES.items() if language.direction == "rtl"}
    assert rtl == {"ar", "fa", "he", "ur"}
    assert {language.direction for language in LANGUAGES.values()} == {"ltr", "rtl"}


def test_every_alias_names_a_supported_language() -> None:
    """An alias is lower case (it is compared so) and leads to a language that exists."""
    for alias, tag in languages.ALIASES.items():
        assert alias == alias.lower()
        assert tag in LANGUAGES


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("de-CH", "de"),
        ("de_AT", "de"),
        ("de-DE-1996", "de"),
        (" fr ", "fr"),
        ("en-US", "en"),
        ("pt-BR", "pt-BR"),
        ("pt_br", "pt-BR"),
        ("PT-br", "pt-BR"),
        ("pt-PT", "pt"),
        ("pt", "pt"),
        ("pt-AO", "pt"),
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-Hans-HK", "zh-CN"),
        ("zh-TW", "zh-TW"),
        ("zh_TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"),
        ("zh-Hant-HK", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh_hk", "zh-TW"),
        ("zh-MO", "zh-TW"),
        ("no", "nb"),
        ("no-NO", "nb"),
        ("nn", "nb"),
        ("nb-NO", "nb"),
        ("iw", "he"),
        ("iw-IL", "he"),
        ("he-IL", "he"),
        ("in", "id"),
        ("tl", "fil"),
        ("sr", "sr"),
        ("sr-Cyrl-RS", "sr"),
        ("sr-Latn", "sr-Latn"),
        ("sr_latn_RS", "sr-Latn"),
        ("ar-EG", "ar"),
        ("", None),
        ("  ", None),
        ("-", None),
        ("*", None),
        ("xx", None),
        ("tlh", None),
        ("e", None),
        ("english", None),
    ],
)
def test_match(wanted: str, expected: str | None) -> None:
    """A requested tag finds its language by exact tag, alias or shorter prefix, else none."""
    assert match(wanted) == expected


@pytest.mark.parametrize(
    ("hl", "accept_language", "expected"),
    [
        ("", "", "en"),
        ("xx", "", "en"),
        ("fr", "de", "fr"),  # the host page's choice beats the browser's
        ("xx", "de", "de"),
        ("", "de-CH, de;q=0.9, en;q=0.8", "de"),
        ("", "xx, tlh;q=0.9, ja;q=0.1", "ja"),  # unsupported ones are skipped
        ("", "fr;q=0.5, de;q=0.9", "de"),  # by weight, not position
        ("", "fr, de", "fr"),  # equal weights keep the header's order
        ("", "fr;q=0.5, de;q=0.5", "fr"),
        ("", "de;q=0, fr;q=0.1", "fr"),  # q=0 means "not this one"
        ("", "de;q=0.000, fr;q=0.001", "fr"),
        ("", "de;q=0", "en"),
        ("", "de;Q=0, fr;q=0.2", "fr"),
        ("", "de;q=abc, fr;q=0.1", "fr"),  # a malformed weight drops its entry
        ("", "de;q=2, fr;q=0.1", "fr"),
        ("", "de;q=nan, fr;q=0.1", "fr"),
        ("", "*", "en"),
        ("", "*;q=1, es;q=0.5", "es"),
        ("", " , ;q=1, it", "it"),
        ("", "zh-Hant-HK, en;q=0.5", "zh-TW"),
        ("", "pt-PT,pt;q=0.9", "pt"),
    ],
)
def test_choose(hl: str, accept_language: str, expected: str) -> None:
    """`hl` if supported, else Accept-Language by q-value (q=0 excluded), else English."""
    assert choose(hl, accept_language) == expected


def test_widget_page_for_hl_ar_is_right_to_left_arabic(client: TestClient) -> None:
    """?hl=ar gives the Arabic page: lang and dir on <html>, Arabic label, Content-Language."""
    got = client.get("/widget", params={"hl": "ar"})
    assert got.status_code == 200
    assert '<html lang="ar" dir="rtl">' in got.text
    assert "أنا إنسان" in got.text
    assert html.escape(LANGUAGES["ar"].texts["label"]) in got.text
    assert got.headers["content-language"] == "ar"


def test_widget_page_follows_accept_language(client: TestClient) -> None:
    """Without hl the browser's Accept-Language decides, and caches are told it varies by it."""
    got = client.get("/widget", headers={"Accept-Language": "de-CH, de;q=0.9, en;q=0.8"})
    assert '<html lang="de" dir="ltr">' in got.text
    assert "Ich bin ein Mensch" in got.text
    assert f"<title>{html.escape(LANGUAGES['de'].texts['title'])}</title>" in got.text
    assert got.headers["content-language"] == "de"
    vary = [value.strip().lower() for value in got.headers["vary"].split(",")]
    assert "accept-language" in vary


def test_widget_page_hl_beats_accept_language(client: TestClient) -> None:
    """The host page's hl (any case, with "_") wins over the browser's preference."""
    got = client.get("/widget", params={"hl": "zh_tw"}, headers={"Accept-Language": "de"})
    assert '<html lang="zh-TW" dir="ltr">' in got.text
    assert got.headers["content-language"] == "zh-TW"


def test_widget_page_defaults_to_english(client: TestClient) -> None:
    """No usable language asked for: the English page."""
    got = client.get("/widget", params={"hl": "xx"}, headers={"Accept-Language": "tlh"})
    assert '<html lang="en" dir="ltr">' in got.text
    assert got.headers["content-language"] == "en"


@pytest.mark.parametrize(("tag", "page"), sorted(widget_assets.frame_pages().items()))
def test_each_page_carries_its_texts_as_json(tag: str, page: widget_assets.Asset) -> None:
    """Every language's page holds its texts in the JSON block, with no raw "<" in it."""
    block = TEXTS_BLOCK.search(page.body.decode())
    assert block is not None
    assert "<" not in block.group(1)
    assert json.loads(block.group(1)) == LANGUAGES[tag].texts


def test_texts_cannot_break_out_of_the_page() -> None:
    """A text holding markup stays data: "<" is \\u003c in the JSON and escaped where shown."""
    hostile = "</script><script>alert(1)</script><!--"
    language = languages.Language("xx", "ltr", dict.fromkeys(ENGLISH_KEYS, hostile))
    template = frame_template()
    page = widget_assets.render_frame(template, language)
    block = TEXTS_BLOCK.search(page)
    assert block is not None
    assert "\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\\u003c!--" in block.group(1)
    assert json.loads(block.group(1)) == language.texts
    assert page.count("<script") == template.count("<script")
    assert "alert(1)</script>" not in page
    assert html.escape(hostile) in page  # the visible slots


# Header-shaped text: tags (real, aliased, junk) with parameters, so the parser's branches run.
header_items = st.tuples(
    st.sampled_from(["de", "zh-Hant", "iw", "pt_BR", "*", "", "x"]) | st.text(max_size=12),
    st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";Q=.3", ";q=", ";q=-1", ";q=1e9", ";x=y"])
    | st.text(max_size=8),
)
headers = st.lists(header_items, max_size=8).map(lambda items: ",".join(t + p for t, p in items))


@given(st.text(), st.text() | headers)
def test_choose_always_gives_a_supported_language(hl: str, accept_language: str) -> None:
    """Whatever hl and Accept-Language hold, choose() answers with a language it has."""
    assert choose(hl, accept_language) in LANGUAGES


@given(st.text())
def test_match_gives_a_supported_language_or_none(wanted: str) -> None:
    """match() never raises, and what it finds is always a supported tag."""
    assert match(wanted) in {*LANGUAGES, None}
