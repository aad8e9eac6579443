"""Decoding fetched bytes to text: pages, and the text files that ``dipdiff diff`` reads.

Apart from the extractor so that reading a text file does not import lxml (start-up time).
"""

from __future__ import annotations

import codecs
import re


def decode_html(content: bytes, declared_charset: str | None = None) -> str:
    """Decode page bytes: BOM, then the HTTP charset, then ``<meta charset>``, then UTF-8.

    A page that says UTF-8 but is really Windows-1252 (common on old government
    sites) is decoded as Windows-1252 rather than sprinkled with U+FFFD.
    """
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if content.startswith(bom):
            return content[len(bom) :].decode(enc, errors="replace")
    candidates: list[str] = []
    # A UTF-16/32 declaration on bytes without a NUL is wrong (HTML in UTF-16 is half NULs), and
    # decoding such bytes "succeeds" as CJK garbage: it is ignored.
    if declared_charset and not (
        re.match(r"(?i)utf-?(16|32)", declared_charset) and b"\x00" not in content[:512]
    ):
        candidates.append(declared_charset)
    m = re.search(
        rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", content[:4096], re.IGNORECASE
    )
    if m:
        candidates.append(m.group(1).decode("ascii", "ignore"))
    candidates += ["utf-8", "cp1252"]
    for enc in candidates:
        try:
            codecs.lookup(enc)
        except LookupError:
            continue
        try:
            return content.decode(enc)
        except UnicodeDecodeError:
            continue
    return content.decode("utf-8", errors="replace")
