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


@dataclass(frozen=True, slots=True)
class Language:
    tag: str
    direction: str  # "ltr" or "rtl", for <html dir>
    texts: dict[str, str]


def _load() -> dict[str, Language]:
    raw: dict[str, dict[str, str]] = json.loads(
        files("authkong.widget").joinpath("messages.json").read_text("utf-8")
    )
    return {
        tag: Language(tag, "rtl" if tag.split("-")[0] in RTL else "ltr", texts)
        for tag, texts in raw.items()
    }


LANGUAGES = _load()
_BY_LOWER = {tag.lower(): tag for tag in LANGUAGES}


def match(wanted: str) -> str | None:
    """The supported tag for one requested tag: exact (any case, _ or -), else its base."""
    tag = wanted.strip().replace("_", "-").lower()
    if not tag:
        return None
    if tag in _BY_LOWER:
        return _BY_LOWER[tag]
    return _BY_LOWER.get(tag.split("-")[0])


def _accepted(header: str) -> list[str]:
    """Accept-Language's tags, best first (q=0 dropped, ties keep their order)."""
    weighted = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and tag.strip() != "*" and q > 0:
            weighted.append((-q, position, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def choose(hl: str, accept_language: str) -> str:
    """The language to show: `hl` if supported, else the browser's best, else English."""
    for wanted in (hl, *_accepted(accept_language[:1000])):
        found = match(wanted)
        if found:
            return found
    return DEFAULT
