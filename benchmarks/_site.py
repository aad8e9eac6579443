"""The benchmark's web site: N statement pages and a sitemap on 127.0.0.1, in its own process.

Pages are written here, modelled on the structure of a state.gov press statement
(no real page is copied). Commands on stdin: ``edit K`` edits K pages (a changed
sentence), ``quit``. The port is printed on the first line of stdout.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from dipdiff.pipeline.server import LocalServer, Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from routes import conditional

WORDS = [
    "the",
    "united",
    "states",
    "condemns",
    "welcomes",
    "urges",
    "calls",
    "on",
    "all",
    "parties",
    "to",
    "respect",
    "ceasefire",
    "humanitarian",
    "access",
    "sovereignty",
    "territorial",
    "integrity",
    "dialogue",
    "partners",
    "allies",
    "security",
    "council",
    "resolution",
    "support",
    "people",
    "government",
    "regional",
    "stability",
    "concern",
    "deeply",
    "committed",
    "cooperation",
    "sanctions",
    "accountability",
    "violence",
    "civilians",
    "talks",
]
NAV = "".join(
    f'<li class="menu-item"><a href="/section-{i}/">Section {i}</a></li>' for i in range(60)
)
FOOTER = "".join(
    f'<li><a href="/footer-{i}/">Footer link {i} of the site</a></li>' for i in range(80)
)
SCRIPT = "<script>" + "var tracking = {};" * 400 + "</script>"


def paragraph(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def page(i: int, edition: int) -> bytes:
    rng = random.Random(i)
    title = f"Statement {i}: " + paragraph(rng, 8)
    paras = [paragraph(rng, 60) for _ in range(6)]
    if edition:
        paras[2] = paras[2][:-1] + f", as amended in edition {edition}."
    body = "".join(f"<p>{p}</p>" for p in paras)
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} - United States Department of State</title>
<meta property="article:published_time" content="2025-06-{1 + i % 28:02d}T12:00:00+00:00">
{SCRIPT}</head>
<body><header><nav><ul>{NAV}</ul></nav></header><main>
<h1 class="featured-content__headline">{title}</h1>
<div class="article-meta"><p class="article-meta__publish-date">June {1 + i % 28}, 2025</p></div>
<div class="entry-content"><p>Office of the Spokesperson</p>{body}</div>
</main><footer><ul>{FOOTER}</ul></footer></body></html>"""
    return html.encode("utf-8")


def main() -> None:
    n = int(sys.argv[1])
    validators = sys.argv[2] == "validators" if len(sys.argv) > 2 else True
    editions = [0] * n
    with LocalServer() as srv:

        def serve(i: int) -> None:
            r = Response(page(i, editions[i]))
            srv.set(
                f"/releases/{i}/",
                conditional(r, last_modified=f"Mon, 0{1 + editions[i]} Jun 2025 12:00:00 GMT")
                if validators
                else r,
            )

        for i in range(n):
            serve(i)
        urls = "".join(f"<url><loc>{srv.url(f'/releases/{i}/')}</loc></url>" for i in range(n))
        srv.set(
            "/sitemap.xml",
            Response(
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode(),
                headers={"Content-Type": "application/xml"},
            ),
        )
        print(srv.port, flush=True)
        edited = 0
        for line in sys.stdin:
            cmd = line.split()
            if cmd and cmd[0] == "edit":
                for _ in range(int(cmd[1])):
                    i = (edited * 97) % n
                    editions[i] += 1
                    serve(i)
                    edited += 1
                print("ok", flush=True)
            elif cmd and cmd[0] == "quit":
                break


if __name__ == "__main__":
    main()
