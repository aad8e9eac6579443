"""The baseline: fetch every URL of a sitemap with httpx, extract the body with lxml, hash it.

Same concurrency as dipdiff's default (8 connections), no politeness, no store: the
least work a change detector can do.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import httpx
from lxml import etree, html


async def fetch_hashes(sitemap: str) -> dict[str, str]:
    new: dict[str, str] = {}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=8)) as client:
        root = etree.fromstring((await client.get(sitemap)).content)
        urls = [el.text for el in root.iter("{*}loc")]
        sem = asyncio.Semaphore(8)

        async def one(url: str) -> None:
            async with sem:
                r = await client.get(url)
            doc = html.fromstring(r.content)
            body = (
                doc.cssselect("div.entry-content")
                if hasattr(doc, "cssselect")
                else doc.xpath(
                    '//div[contains(concat(" ", normalize-space(@class), " "), " entry-content ")]'
                )
            )
            text = " ".join(b.text_content() for b in body)
            new[url] = hashlib.sha256(text.encode()).hexdigest()

        await asyncio.gather(*(one(u) for u in urls))
    return new


def main(sitemap: str, state_file: Path) -> None:
    old = json.loads(state_file.read_text()) if state_file.exists() else {}
    new = asyncio.run(fetch_hashes(sitemap))
    changed = sum(1 for u, h in new.items() if old.get(u) != h)
    state_file.write_text(json.dumps(new))
    print(f"{len(new)} pages, {changed} new or changed")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
