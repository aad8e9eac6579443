"""The static site's pages: the Jinja2 templates of ``data/site/`` filled with what the
pipeline found (:mod:`dipdiff.pipeline.site`). Pure: a page's context in, its HTML out.

The only module that imports jinja2. Autoescaping is on for every template, so page text —
titles, paragraphs, agency names, all of it written by someone else — is always text; the
only markup that goes in unescaped is what dipdiff's own renderers made (the redline and
the comparison of :mod:`dipdiff.render.html`, which escape every piece of page text), and
links to the outside only ever carry ``http``/``https`` URLs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from dipdiff import __version__
from dipdiff.models import Statement
from dipdiff.render.html import DIFF_STYLE
from dipdiff.scrape.policy import is_web_url
from dipdiff.text import canonical

TEMPLATES = (
    "base.html",
    "_macros.html",
    "home.html",
    "agency.html",
    "statement.html",
    "version.html",
    "diff.html",
    "event.html",
    "search.html",
)
ASSET_FILES = ("site.css", "search.js")


@functools.cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("dipdiff", "data/site"),
        autoescape=True,  # every template: page text is never markup
        undefined=StrictUndefined,  # a misspelt field fails the build, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, **context: Any) -> str:
    """One page of the site. ``root`` (in ``context``) is the relative path to the site's root."""
    return _env().get_template(template).render(**context)


def trusted(fragment: str) -> Markup:
    """HTML that dipdiff's own renderers made (they escape the page text in it)."""
    return Markup(fragment)  # noqa: S704 - made by render.html, which escapes every text


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) URL, else "": a stored URL never becomes a script link
    (the network policy's rule, so that what is followed and what is linked are one set)."""
    return url if is_web_url(url) else ""


def _data(name: str) -> bytes:
    return resources.files("dipdiff").joinpath("data", "site", name).read_bytes()


def assets() -> dict[str, bytes]:
    """The files under ``_assets/``: the stylesheet (the redline's rules included) and the
    search script."""
    css = _data("site.css") + b"\n/* the redline (render/html.py) */" + DIFF_STYLE.encode()
    return {"site.css": css, "search.js": _data("search.js")}


@functools.cache
def render_key() -> str:
    """A hash of everything that shapes a page besides its data: the templates, the assets and
    dipdiff's version. A page whose data and this key are unchanged is not rendered again."""
    h = hashlib.sha256(__version__.encode())
    for name in (*TEMPLATES, *ASSET_FILES):
        h.update(name.encode() + b"\0" + _data(name) + b"\0")
    h.update(DIFF_STYLE.encode())
    return h.hexdigest()


def search_text(statement: Statement) -> str:
    """What the search script matches a query against: the title and each distinct word of
    the text, folded (canonical form, lower case), in order of first appearance."""
    words = re.findall(r"\w+", canonical(f"{statement.title}\n{statement.body}").casefold())
    return " ".join(dict.fromkeys(words))


def search_index(texts: dict[str, str]) -> bytes:
    """The search script's index: statement ID -> :func:`search_text`, as compact JSON."""
    return json.dumps(texts, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
