"""The baseline: fetch every URL of a sitemap with httpx, extract the body with lxml, hash it.

Same concurrency as dipdiff's default (8 connections), no politeness, no store: the
least work a change detector can do. Requests are conditional, as dipdiff's are: each URL's
``ETag`` and ``Last-Modified`` are kept beside its hash, and a ``304`` keeps the hash it had.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import httpx
from lxml import etree, html


async def fetch_hashes(sitemap: str, old: dict[str, list[str | None]]) -> dict[str, list]:
    new: dict[str, list[str | None]] = {}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=8)) as client:
        root = etree.fromstring((await client.get(sitemap)).content)
        urls = [el.text for el in root.iter("{*}loc")]
        sem = asyncio.Semaphore(8)

        async def one(url: str) -> None:
            sha, etag, modified = old.get(url) or (None, None, None)
            headers = {}
            if sha and etag:
                headers["If-None-Match"] = etag
            if sha and modified:
                headers["If-Modified-Since"] = modified
            async with sem:
                r = await client.get(url, headers=headers)
            validators = [r.headers.get("etag"), r.headers.get("last-modified")]
            if r.status_code == 304:
                new[url] = [sha, *validators]
                return
            doc = html.fromstring(r.content)
            body = (
                doc.cssselect("div.entry-content")
                if hasattr(doc, "cssselect")
                else doc.xpath(
                    '//div[contains(concat(" ", normalize-space(@class), " "), " entry-content ")]'
                )
            )
            text = " ".join(b.text_content() for b in body)
            new[url] = [hashlib.sha256(text.encode()).hexdigest(), *validators]

        await asyncio.gather(*(one(u) for u in urls))
    return new


def main(sitemap: str, state_file: Path) -> None:
    old = json.loads(state_file.read_text()) if state_file.exists() else {}
    new = asyncio.run(fetch_hashes(sitemap, old))
    changed = sum(1 for u, h in new.items() if (old.get(u) or [None])[0] != h[0])
    state_file.write_text(json.dumps(new))
    print(f"{len(new)} pages, {changed} new or changed")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
