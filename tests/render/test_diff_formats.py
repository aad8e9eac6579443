"""`dipdiff diff` formats and options, through the CLI (the cli fixture) and the pure renderers."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

from dipdiff.analyse.diff import diff_texts
from dipdiff.render.html import diff_html
from dipdiff.render.markdown import diff_markdown

A = """The United States condemns the attack on the convoy near Khartoum.

We call on all parties to agree to an immediate ceasefire.

The Secretary spoke today with Foreign Minister Ali about humanitarian access.
"""
B = """The Secretary spoke today with Foreign Minister Ali about humanitarian access.

The United States condemns the attack on the convoy near Khartoum.

We call on all parties to consider a ceasefire, and we will not accept delays.
"""


def _files(tmp_path, a: str = A, b: str = B):
    fa, fb = tmp_path / "before.txt", tmp_path / "after.txt"
    fa.write_text(a, encoding="utf-8")
    fb.write_text(b, encoding="utf-8")
    return str(fa), str(fb)


def test_term_plain_shows_the_move_once_and_the_flags(cli, tmp_path):
    r = cli("diff", *_files(tmp_path))
    assert r.exit_code == 1, r.output
    assert r.output.count("↕ moved here (was paragraph 3)") == 1 and "↕ moved from here" in r.output
    assert (
        "[-agree to an immediate ceasefire-]{+consider a ceasefire, and we will not accept delays+}"
        in r.output
    )
    assert (
        r.output.rstrip().endswith("similarity 80%") and "flags: 1 negation, 1 modality" in r.output
    )


def test_json_extends_the_contract(cli, tmp_path):
    r = cli("diff", *_files(tmp_path), "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.output)
    assert set(doc) >= {"a", "b", "similarity", "changes", "summary", "granularity"}
    move, edit = doc["changes"]
    assert move["kind"] == "move" and (move["a_paragraph"], move["b_paragraph"]) == (2, 0)
    assert set(edit) >= {
        "kind",
        "old",
        "new",
        "significance",
        "signals",
        "where",
        "a_paragraph",
        "b_paragraph",
        "flags",
        "a_start",
        "a_end",
        "b_start",
        "b_end",
        "signals_added",
        "signals_removed",
        "moved",
    }
    # "an immediate ceasefire" -> "a ceasefire": the intensifier went, the signal changed.
    assert edit["flags"] == ["negation", "modality", "signal"]
    assert edit["significance"] == "substantive"
    assert edit["signals_removed"] == ["immediate ceasefire"] and edit["signals"] == ["ceasefire"]
    body_a = "".join(p + "\n" for p in A.strip().split("\n\n"))
    assert body_a[edit["a_start"] : edit["a_end"]] == edit["old"]
    assert doc["summary"]["move"] == 1 and doc["summary"]["flags"]["negation"] == 1


def test_ignore_cosmetic_exits_0_when_only_cosmetic_changes(cli, tmp_path):
    files = _files(
        tmp_path, "He said “we won’t”.\n\nOn Monday.", 'He said "we won\'t".\n\non Monday.'
    )
    r = cli("diff", *files)
    assert r.exit_code == 1 and "cosmetic" in r.output
    r = cli("diff", *files, "--ignore-cosmetic")
    assert r.exit_code == 0, r.output
    assert r.output.rstrip().endswith("no differences")
    r = cli("diff", *files, "--ignore-cosmetic", "--format", "json")
    assert json.loads(r.output)["changes"] == []


def test_granularity_snaps_changes_to_sentences_or_paragraphs(cli, tmp_path):
    files = _files(tmp_path, "One two three. Four five six.", "One two three. Four five seven.")
    words = json.loads(cli("diff", *files, "-f", "json").output)["changes"]
    sentences = json.loads(cli("diff", *files, "-f", "json", "--granularity", "sentence").output)[
        "changes"
    ]
    paragraphs = json.loads(cli("diff", *files, "-f", "json", "-g", "paragraph").output)["changes"]
    assert [(c["old"], c["new"]) for c in words] == [("six", "seven")]
    assert [(c["old"], c["new"]) for c in sentences] == [("Four five six.", "Four five seven.")]
    assert [(c["old"], c["new"]) for c in paragraphs] == [
        ("One two three. Four five six.", "One two three. Four five seven.")
    ]


def test_bad_granularity_is_a_one_line_error(cli, tmp_path):
    r = cli("diff", *_files(tmp_path), "--granularity", "letter")
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        "dipdiff: error: --granularity 'letter': choose one of word, sentence, paragraph"
    ]


def test_config_signals_extend_the_lexicon(cli, tmp_path):
    files = _files(tmp_path, "The talks were frank.", "The talks were candid and frank.")
    config = tmp_path / "dipdiff.toml"
    config.write_text(
        '[[signals.add]]\nphrase = "candid"\ncategory = "tone"\npolarity = "critical"\n',
        encoding="utf-8",
    )
    plain = json.loads(cli("diff", *files, "-f", "json").output)["changes"]
    assert plain[0]["signals"] == []
    extended = json.loads(cli("diff", *files, "-f", "json", "--config", str(config)).output)[
        "changes"
    ]
    assert extended[0]["signals"] == ["candid"] and "signal" in extended[0]["flags"]
    config.write_text('[[signals.add]]\nphrase = "candid"\npolarity = "angry"\n', encoding="utf-8")
    r = cli("diff", *files, "--config", str(config))
    assert r.exit_code == 2 and str(config) in r.output and "signals.add[0]" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_unified_is_paragraph_level(cli, tmp_path):
    r = cli("diff", *_files(tmp_path), "--format", "unified")
    assert r.exit_code == 1
    assert "\n-We call on all parties to agree to an immediate ceasefire.\n" in r.output
    assert (
        "\n+We call on all parties to consider a ceasefire, and we will not accept delays.\n"
        in r.output
    )


def test_markdown_renders_on_github():
    md = diff_markdown(diff_texts(A, B), a_label="a", b_label="b")
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    assert "<table>" in html and "|---" not in html
    # Readable without colour: the insertion is bold and set apart from the deletion.
    assert (
        "<del>agree to an immediate ceasefire</del> <ins><strong>consider a ceasefire, and we will "
        "not accept delays</strong></ins>" in html
    )
    assert "&lt;del&gt;" not in html  # tags are tags, not text
    assert "moved here (was paragraph 3)" in html


def test_markdown_escapes_page_text():
    md = diff_markdown(diff_texts("We *urge* <b>calm</b> | now.", "We *demand* <b>calm</b> | now."))
    html = MarkdownIt("commonmark", {"html": True}).enable(["table"]).render(md)
    assert "<b>" not in html and "&lt;b&gt;calm" in html and "<em>" not in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_is_one_self_contained_page_with_both_views(cli, tmp_path):
    r = cli("diff", *_files(tmp_path), "--format", "html")
    assert r.exit_code == 1
    page = r.output
    parser = _Tags()
    parser.feed(page)
    names = [t for t, _ in parser.tags]
    assert names[0] == "html" and "style" in names and "script" not in names
    assert not any(a.get("src") or a.get("href") for _, a in parser.tags)  # no external assets
    assert 'class="view inline"' in page and 'class="view side"' in page
    assert (
        "<del>agree to an immediate ceasefire</del>" in page and "<ins>consider a ceasefire" in page
    )
    assert not re.search(r"url\(|@import", page)


def test_html_escapes_page_text():
    page = diff_html(
        diff_texts("Say <script>alert(1)</script> now.", "Say <script>alert(2)</script> now.")
    )
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_moved_text_is_clipped_the_same_way_in_every_format(cli, tmp_path):
    long = (
        "The Secretary spoke today with Foreign Minister Ali about humanitarian access to the "
        "camps near the border, the release of detained aid workers and the reopening of the "
        "crossing at Adre."
    )
    stay = (
        "The United States condemns in the strongest terms the attack on the humanitarian convoy "
        "near Khartoum, which killed three aid workers and wounded many more. We call on all "
        "parties to the conflict to agree to an immediate ceasefire and to return to negotiations "
        "without conditions."
    )
    a = f"{long}\n\n{stay}"
    b = f"{stay}\n\n{long}"
    files = _files(tmp_path, a, b)
    term = cli("diff", *files).output.splitlines()
    shown = term[term.index("↕ moved from here:") + 1]
    assert len(shown) == 100 and shown.endswith("…") and long.startswith(shown[:-1])
    page = cli("diff", *files, "--format", "html").output
    (moved,) = re.findall(r"moved: ([^<]*)</li>", page)
    assert len(moved) == 60 and moved.endswith("…") and long.startswith(moved[:-1])
