"""``dipdiff import FILE.warc.gz`` / ``FILE.wacz``: a crawler's captures into the store.

The WARCs are written here with warcio, around real corpus pages (FEMA's Hurricane Maria page
before and after its edit of 5 October 2017, EPA's fact sheet that was reached through a 301 and
a 302): a revisit record, a redirect chain, a challenge page, records that are not pages. What
the import records must be what live fetching of the same pages at the same times records.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from dipdiff.pipeline.server import LocalServer, Response
from dipdiff.store.store import Store
from helpers import Cli, corpus_file

FEMA_A = "edgi-web-monitoring-diff/versions/f2d5d701-707a-42e0-8881-653346d01e0a.html"
FEMA_B = "edgi-web-monitoring-diff/versions/fc74d750-c651-46b7-bf74-434ad8c62e04.html"
EPA = (
    "edgi-web-monitoring-processing/wayback-mementos/20180808104500__www.epa.gov_ghgreporting_"
    "proposed-rule-fact-sheet-greenhouse-gas-reporting-program-addition-global-w.html"
)
CHALLENGE = (
    b"<html><head><title>Access Denied</title></head><body><p>You don't have permission to "
    b"access this page on this server. Reference #18.5f2e3b17</p></body></html>"
)
HTML = [("Content-Type", "text/html; charset=utf-8")]


class Warc:
    """A WARC being written, the way a crawler writes one."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.w = WARCWriter(self.buf, gzip=True)
        self.digests: dict[tuple[str, str], str] = {}

    def response(
        self,
        uri: str,
        date: str,
        body: bytes,
        status: str = "200 OK",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        http = StatusAndHeaders(
            status, headers if headers is not None else HTML, protocol="HTTP/1.1"
        )
        path = "/" + uri.split("/", 3)[3]
        request = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", "x")], is_http_request=True)
        self.w.write_record(
            self.w.create_warc_record(
                uri,
                "request",
                payload=io.BytesIO(b""),
                http_headers=request,
                warc_headers_dict={"WARC-Date": date},
            )
        )
        rec = self.w.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": date},
        )
        self.digests[(uri, date)] = rec.rec_headers.get_header("WARC-Payload-Digest")
        self.w.write_record(rec)

    def revisit(self, uri: str, date: str, of: str) -> None:
        http = StatusAndHeaders("200 OK", HTML, protocol="HTTP/1.1")
        rec = self.w.create_revisit_record(
            uri,
            self.digests[(uri, of)],
            uri,
            of,
            http_headers=http,
            warc_headers_dict={"WARC-Date": date},
        )
        self.w.write_record(rec)

    def bytes(self) -> bytes:
        return self.buf.getvalue()


def crawl(server: LocalServer) -> tuple[Warc, dict[str, list[tuple[str, Any]]]]:
    """The crawl, and for each statement URL what the site served at each capture time."""
    a, b = corpus_file(FEMA_A).read_bytes(), corpus_file(FEMA_B).read_bytes()
    epa = corpus_file(EPA).read_bytes()
    maria, old, moved, fact = (
        server.url(p)
        for p in ("/maria", "/ghg/san5779-factsheet", "/ghg/fs", "/ghg/proposed-rule-fact-sheet")
    )
    w = Warc()
    w.response(maria, "2017-10-03T12:00:00Z", a)
    w.response(
        server.url("/style.css"),
        "2017-10-03T12:00:01Z",
        b"body{}",
        headers=[("Content-Type", "text/css")],
    )
    w.revisit(maria, "2017-10-04T12:00:00Z", of="2017-10-03T12:00:00Z")
    w.response(maria, "2017-10-05T12:00:00Z", b)
    w.response(maria, "2017-10-06T12:00:00Z", CHALLENGE)
    # The fact sheet's old address: a 301, then a 302, then the page (as the EDGI memento was).
    w.response(
        old,
        "2018-08-08T10:45:00Z",
        b"",
        status="301 Moved Permanently",
        headers=[("Location", "/ghg/fs")],
    )
    w.response(moved, "2018-08-08T10:45:00Z", b"", status="302 Found", headers=[("Location", fact)])
    w.response(fact, "2018-08-08T10:45:00Z", epa)
    live = {
        maria: [
            ("2017-10-03T12:00:00Z", a),
            ("2017-10-04T12:00:00Z", a),
            ("2017-10-05T12:00:00Z", b),
            ("2017-10-06T12:00:00Z", CHALLENGE),
        ],
        old: [("2018-08-08T10:45:00Z", epa)],
    }
    return w, live


def history(store: Path) -> dict[str, Any]:
    s = Store(store)
    return {
        sid: {
            "versions": [
                (r.number, r.fetched_at, r.sha256, s.read_version(sid, r.number).statement)
                for r in s.versions(sid)
            ],
            "checks": [
                {k: v for k, v in c.items() if k not in ("archive", "memento", "after")}
                for c in s.meta(sid).checks
            ],
        }
        for sid in s.statement_ids()
    }


def serve_live(server: LocalServer, url: str, body: bytes) -> None:
    path = url.split(str(server.port), 1)[1]
    server.set(path, Response(body))
    if path.startswith("/ghg/"):  # the redirect chain, live
        server.set("/ghg/san5779-factsheet", Response(b"", 301, {"Location": "/ghg/fs"}))
        server.set(
            "/ghg/fs", Response(b"", 302, {"Location": server.url("/ghg/proposed-rule-fact-sheet")})
        )
        server.set("/ghg/proposed-rule-fact-sheet", Response(body))


def test_a_warc_records_what_live_fetching_would_have(
    server: LocalServer, cli: Cli, tmp_path: Path
) -> None:
    w, live = crawl(server)
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(w.bytes())
    r = cli("import", str(warc))
    assert r.exit_code == 1, r.output
    assert (
        "imported crawl.warc.gz: 5 capture(s), 3 version(s) stored, 1 unchanged, 1 blocked"
        in r.stderr
    )

    live_cli = Cli(tmp_path / "live")
    said = []
    for url, seen in live.items():
        for when, body in seen:
            serve_live(server, url, body)
            r = live_cli("snapshot", url, env={"DIPDIFF_NOW": when})
            said.append((r.exit_code, r.output.split(" ", 1)[0], r.output))
    # What a user saw live, capture by capture: a blocked page is a state that goes on (0).
    assert [(code, word) for code, word, _ in said] == [
        (1, "new"),
        (0, "unchanged"),
        (1, "changed"),
        (0, "blocked"),
        (1, "new"),  # the fact sheet, at the end of its redirect chain
    ], said
    assert history(cli.store) == history(tmp_path / "live")

    s = Store(cli.store)
    fact = s.find_url(server.url("/ghg/san5779-factsheet"), "127-0-0-1")
    assert fact is not None, s.statement_ids()
    (ref,) = s.versions(fact)
    assert ref.provenance is not None and ref.provenance.origin == "crawl.warc.gz"
    assert ref.provenance.memento == server.url("/ghg/proposed-rule-fact-sheet")
    assert ref.provenance.digest.startswith("sha1:")
    checks = s.meta(fact).checks
    assert checks[0]["note"].startswith("redirected to "), checks


def test_importing_twice_adds_nothing(server: LocalServer, cli: Cli, tmp_path: Path) -> None:
    w, _ = crawl(server)
    warc = tmp_path / "crawl.warc.gz"
    warc.write_bytes(w.bytes())
    assert cli("import", str(warc)).exit_code == 1
    before = {p: p.read_bytes() for p in cli.store.rglob("*") if p.is_file() and p.name != ".lock"}
    r = cli("import", str(warc))
    assert r.exit_code == 0, r.output
    assert "5 imported before" in r.stderr
    after = {p: p.read_bytes() for p in cli.store.rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == before


def test_a_wacz_imports_the_pages_its_index_lists(
    server: LocalServer, cli: Cli, tmp_path: Path
) -> None:
    w, _ = crawl(server)
    wacz = tmp_path / "crawl.wacz"
    maria = server.url("/maria")
    with zipfile.ZipFile(wacz, "w") as z:
        z.writestr("archive/data.warc.gz", w.bytes())
        z.writestr(
            "pages/pages.jsonl",
            '{"format": "json-pages-1.0", "id": "pages"}\n'
            + json.dumps({"id": "1", "url": maria, "ts": "2017-10-03T12:00:00Z"})
            + "\n",
        )
        z.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": []}))
    r = cli("import", str(wacz))
    assert r.exit_code == 1, r.output
    s = Store(cli.store)
    assert s.statement_ids() == ["127-0-0-1/maria"]  # not the fact sheet: the index lists maria
    assert [v.provenance.origin for v in s.versions("127-0-0-1/maria") if v.provenance] == [
        "crawl.wacz",
        "crawl.wacz",
    ]
    r = cli("log", "127-0-0-1/maria")
    assert r.output.count("(from the archive: crawl.wacz)") == 2, r.output


def test_only_the_url_asked(server: LocalServer, cli: Cli, tmp_path: Path) -> None:
    w, _ = crawl(server)
    warc = tmp_path / "crawl.warc"
    warc.write_bytes(w.bytes())
    r = cli("import", str(warc), "--url", server.url("/ghg/san5779-factsheet"))
    assert r.exit_code == 1, r.output
    assert Store(cli.store).statement_ids() == ["127-0-0-1/san5779-factsheet"]


def test_bad_archive_files_are_one_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "notes.warc.gz"
    bad.write_bytes(b"these are not WARC records\n")
    r = cli("import", str(bad))
    assert r.exit_code == 2 and "not a readable WARC file" in r.stderr, r.output
    assert r.stderr.strip().count("\n") == 0
    zipped = tmp_path / "x.wacz"
    zipped.write_bytes(b"PK not really")
    r = cli("import", str(zipped))
    assert r.exit_code == 2 and "not a WACZ (zip) file" in r.stderr, r.output
    r = cli("import", str(tmp_path / "missing.warc"))
    assert r.exit_code == 2 and "no such file" in r.stderr, r.output
    page = tmp_path / "page.html"
    page.write_text("<h1>x</h1>", encoding="utf-8")
    r = cli("import", str(page))
    assert r.exit_code == 2 and "--url" in r.stderr, r.output
