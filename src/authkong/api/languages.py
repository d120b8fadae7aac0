"""The widget's languages: texts from `widget/messages.json` and the choice of one.

The frame page is rendered once per language (api/widget_assets.py). A widget's language
is the one its host page asks for (`hl`, `language`, `data-lang`), else the browser's
(Accept-Language, which the iframe request carries), else English.
"""

import json
from dataclasses import dataclass
from importlib.resources import files

DEFAULT = "en"
RTL = frozenset({"ar", "fa", "he", "ur"})

# Requested tag (lower case) -> supported tag, where the tag and its prefixes miss.
ALIASES = {
    "zh": "zh-CN",  # bare Chinese: Simplified, the larger readership
    "zh-hant": "zh-TW",
    "zh-hk": "zh-TW",
    "zh-mo": "zh-TW",
    "no": "nb",  # Norwegian macrolanguage
    "nn": "nb",  # Nynorsk readers read Bokmål
    "iw": "he",  # codes ISO 639 withdrew, still sent by old Java and Android
    "in": "id",
    "tl": "fil",
}


@dataclass(frozen=True, slots=True)
class Language:
    tag: str
    direction: str  # "ltr" or "rtl", for <html dir>
    texts: dict[str, str]


def _load() -> dict[str, Language]:
    raw: dict[str, dict[str, str]] = json.loads(
        files("authkong.widget").joinpath("messages.json").read_text("utf-8")
    )
    # frame.js reads every key: a language missing one would show "undefined".
    for tag, texts in raw.items():
        if list(texts) != list(raw[DEFAULT]):
            raise ValueError(f"messages.json: {tag}'s keys differ from {DEFAULT}'s")
    return {
        tag: Language(tag, "rtl" if tag.split("-")[0] in RTL else "ltr", texts)
        for tag, texts in raw.items()
    }


LANGUAGES = _load()
_BY_LOWER = {tag.lower(): tag for tag in LANGUAGES}


def match(wanted: str) -> str | None:
    """The supported tag for one requested tag (any case, "_" or "-"), or None.

    The tag, then ever shorter prefixes of it (RFC 4647 lookup), each as is or by alias:
    "de-CH" finds "de", "zh-Hant-HK" finds "zh-TW" by "zh-Hant".
    """
    # language-script-region is as specific as any entry gets; the rest can't matter.
    subtags = wanted.strip().replace("_", "-").lower().split("-")[:3]
    for length in range(len(subtags), 0, -1):
        tag = "-".join(subtags[:length])
        if tag in _BY_LOWER:
            return _BY_LOWER[tag]
        if tag in ALIASES:
            return ALIASES[tag]
    return None


def _weight(value: str) -> float:
    """A q-value; a malformed one counts as 0, so a garbled entry is ignored."""
    try:
        q = float(value)
    except ValueError:
        return 0.0
    return q if 0 <= q <= 1 else 0.0  # also drops nan and inf


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, best first (q=0 dropped, ties keep their order)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _weight(value)
        if tag and tag != "*" and q > 0:
            weighted.append((-q, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def choose(hl: str, accept_language: str) -> str:
    """The language to show: `hl` if supported, else the browser's best, else English."""
    for wanted in (hl, *_accepted(accept_language[:1000])):
        found = match(wanted)
        if found:
            return found
    return DEFAULT
