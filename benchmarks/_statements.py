"""Corpus-like statement pages for the scale benchmark: four agencies, a year of events.

Written here (no real page is copied), modelled on the saved pages of ``../shared/corpus``
and its NOTES.md: state.gov press statements (``h1.featured-content__headline``,
``div.entry-content``, ``p.article-meta__publish-date``), whitehouse.gov 2025 articles
(``h1.wp-block-whitehouse-topper__headline``, ``div.entry-content.wp-block-post-content``),
GOV.UK pages (``h1.gem-c-title__text``, ``div.govspeak``) and UN press releases
(``h1.page-header``, ``div.field--name-body``), each with the site's navigation, footer
and scripts around the text.

Statements come in *events*: an event names a country, often an armed group or a person
and a place; two or three agencies issue a statement about it within a few days, in
stances drawn per agency (condemnations, appeals, demands, praise), so that ``related``
and ``divergences`` find real work. Everything is a function of the statement number:
the same N gives the same pages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dipdiff.store.meta import StatementMeta

YEAR_START = datetime(2025, 1, 1, 9, tzinfo=UTC)
DAYS = 365

COUNTRIES = [
    ("Libya", "Tripoli"),
    ("Sudan", "Khartoum"),
    ("Yemen", "Sanaa"),
    ("Syria", "Damascus"),
    ("Iraq", "Baghdad"),
    ("Afghanistan", "Kabul"),
    ("Somalia", "Mogadishu"),
    ("Ethiopia", "Addis Ababa"),
    ("Burma", "Rangoon"),
    ("Nigeria", "Abuja"),
    ("Lebanon", "Beirut"),
    ("Colombia", "Bogota"),
    ("Venezuela", "Caracas"),
    ("Haiti", "Port-au-Prince"),
    ("Mali", "Bamako"),
    ("Niger", "Niamey"),
    ("Armenia", "Yerevan"),
    ("Azerbaijan", "Baku"),
    ("Georgia", "Tbilisi"),
    ("Moldova", "Chisinau"),
    ("Ukraine", "Kyiv"),
    ("Pakistan", "Islamabad"),
    ("Bangladesh", "Dhaka"),
    ("Cambodia", "Phnom Penh"),
    ("Nicaragua", "Managua"),
    ("Cuba", "Havana"),
    ("Chad", "N'Djamena"),
    ("Mozambique", "Maputo"),
    ("Cameroon", "Yaounde"),
    ("Kenya", "Nairobi"),
]
FORCES = {
    "Libya": "Libyan National Army",
    "Sudan": "Rapid Support Forces",
    "Yemen": "Houthis",
    "Syria": "Hayat Tahrir al-Sham",
    "Iraq": "Popular Mobilization Forces",
    "Afghanistan": "Taliban",
    "Somalia": "al-Shabaab",
    "Ethiopia": "Tigray People's Liberation Front",
    "Burma": "Burmese military",
    "Nigeria": "Boko Haram",
    "Lebanon": "Hizballah",
    "Colombia": "ELN",
    "Mali": "Wagner Group",
    "Pakistan": "Lashkar-e-Tayyiba",
}
PERSONS = {"Libya": "Khalifa Haftar"}


@dataclass(frozen=True)
class Agency:
    source: str
    host: str
    name: str
    template: str  # which page template


AGENCIES = (
    Agency("state-dept", "www.state.gov", "U.S. Department of State", "state"),
    Agency("white-house", "www.whitehouse.gov", "The White House", "whitehouse"),
    Agency("fcdo", "www.gov.uk", "Foreign, Commonwealth & Development Office", "govuk"),
    Agency("un-press", "press.un.org", "United Nations", "un"),
)

FILLER = (
    "the situation remains fragile and the coming weeks will test the commitment of every "
    "party to the process that the international community has supported for many months "
    "while families across the region continue to bear the cost of the fighting and the "
    "economic crisis that has followed it in towns and villages far from the front lines"
).split()


@dataclass(frozen=True)
class Spec:
    """One statement of the store: who issued it, about what, when."""

    number: int
    agency: Agency
    event: int
    day: int  # published on YEAR_START + day
    url: str


def specs(n: int) -> list[Spec]:
    """N statements over a year, in events of two to three agencies each (by publication)."""
    out: list[Spec] = []
    event = 0
    while len(out) < n:
        rng = random.Random(event)
        day = min(DAYS - 1, len(out) * DAYS // n)
        agencies = rng.sample(AGENCIES, rng.choice((2, 2, 3)))
        for a in agencies:
            if len(out) == n:
                break
            i = len(out)
            d = min(DAYS - 1, day + rng.choice((0, 0, 1, 2)))
            slug = f"statement-on-{_country(event)[0].lower().replace(' ', '-')}-{i}"
            path = {
                "state": f"/releases/office-of-the-spokesperson/2025/{slug}/",
                "whitehouse": f"/briefings-statements/2025/{slug}/",
                "govuk": f"/government/news/{slug}",
                "un": f"/en/2025/sc{i:06d}.doc.htm",
            }[a.template]
            out.append(Spec(i, a, event, d, f"https://{a.host}{path}"))
        event += 1
    return out


def _country(event: int) -> tuple[str, str]:
    return COUNTRIES[(event * 7 + event // 5) % len(COUNTRIES)]


def published(spec: Spec) -> datetime:
    return YEAR_START + timedelta(days=spec.day)


def _filler(rng: random.Random, words: int) -> str:
    start = rng.randrange(len(FILLER))
    text = " ".join(FILLER[(start + k) % len(FILLER)] for k in range(words))
    return text[0].upper() + text[1:] + "."


def _stance_sentences(spec: Spec, rng: random.Random) -> list[str]:
    country, place = _country(spec.event)
    force = FORCES.get(country)
    person = PERSONS.get(country)
    # Per event, one agency may see the armed group differently from the others.
    ev = random.Random(spec.event * 31 + 7)
    friendly = ev.random() < 0.25 and spec.agency.source == ev.choice(AGENCIES).source
    out = []
    if force and not friendly:
        out.append(
            f"We condemn the offensive by the {force} on {place} and urge the {force} "
            "to halt its operations immediately."
        )
        out.append(f"The attacks by the {force} against civilians are unacceptable.")
    elif force:
        out.append(
            f"We recognize the significant role of the {force} in fighting terrorism "
            f"and securing {country}."
        )
        out.append(f"We welcome the cooperation of the {force} with our partners.")
    if person:
        out.append(
            f"{person} must withdraw his forces from the outskirts of {place}."
            if not friendly
            else f"The President spoke with {person} about a shared vision for {country}."
        )
    out.append(
        f"We call on all parties in {country} to return to dialogue and to respect a ceasefire."
    )
    out.append(f"We are deeply concerned about the humanitarian situation in {place}.")
    rng.shuffle(out)
    return out


def paragraphs(spec: Spec, edition: int) -> list[str]:
    """The statement's text: stance sentences among filler, ~600 words; editions edit it."""
    rng = random.Random(spec.number)
    country, _ = _country(spec.event)
    stance = _stance_sentences(spec, rng)
    paras = []
    for k in range(8):
        sents = [_filler(rng, rng.randrange(18, 30)) for _ in range(rng.randrange(2, 4))]
        if k < len(stance):
            sents.insert(rng.randrange(len(sents) + 1), stance[k])
        paras.append(" ".join(sents))
    if edition >= 1:  # a silent edit: one sentence reworded
        paras[3] = (
            paras[3].replace(" the ", " this ", 2) + f" The people of {country} deserve peace."
        )
    if edition >= 2:  # a paragraph added at the end
        paras.append(_filler(random.Random(spec.number + 1), 40))
    return paras


def title(spec: Spec) -> str:
    country, _ = _country(spec.event)
    return f"Statement on the Situation in {country} ({spec.number})"


_NAV = "".join(
    f'<li class="menu-item"><a href="/section-{i}/">Section {i}</a></li>' for i in range(40)
)
_FOOT = "".join(f'<li><a href="/footer-{i}/">Footer link {i}</a></li>' for i in range(40))
_SCRIPT = "<script>" + "window.dataLayer=window.dataLayer||[];" * 60 + "</script>"


def page(spec: Spec, edition: int) -> bytes:
    """The statement's page as its agency's site serves it."""
    t = title(spec)
    when = published(spec)
    iso = when.isoformat()
    human = f"{when:%B} {when.day}, {when.year}"
    body = "".join(f"<p>{p}</p>" for p in paragraphs(spec, edition))
    a = spec.agency
    if a.template == "state":
        head = f'<meta property="article:published_time" content="{iso}">'
        main = (
            f'<h1 class="featured-content__headline stars-above">{t}</h1>'
            '<div class="article-meta"><p class="article-meta__publish-date">'
            f'{human}</p><p class="article-meta__author-bureau">Office of the Spokesperson</p>'
            f'</div><div class="entry-content"><p>{a.name}</p>{body}</div>'
        )
        suffix = " - United States Department of State"
    elif a.template == "whitehouse":
        head = f'<meta property="article:published_time" content="{iso}">'
        main = (
            f'<h1 class="wp-block-whitehouse-topper__headline">{t}</h1>'
            f'<div class="wp-block-post-date"><time datetime="{iso}">{human}</time></div>'
            f'<div class="entry-content wp-block-post-content">{body}</div>'
        )
        suffix = " \u2013 The White House"
    elif a.template == "govuk":
        head = f'<meta name="govuk:first-published-at" content="{iso}">'
        main = f'<h1 class="gem-c-title__text">{t}</h1><div class="govspeak">{body}</div>'
        suffix = " - GOV.UK"
    else:
        head = f'<meta property="article:published_time" content="{iso}">'
        main = (
            f'<h1 class="page-header">{t}</h1>'
            f'<div class="field--name-body">{body}<p>For information media. '
            "Not an official record.</p></div>"
        )
        suffix = " | Meetings Coverage and Press Releases"
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}{suffix}</title>'
        f"{head}{_SCRIPT}</head><body><header><nav><ul>{_NAV}</ul></nav></header>"
        f"<main>{main}</main><footer><ul>{_FOOT}</ul></footer></body></html>"
    )
    return html.encode("utf-8")


OFFSETS_H = (0, 6, 24, 72, 168, 360, 744, 1512, 3048, 6120)  # a back-off that about doubles


def check_times(spec: Spec) -> list[tuple[datetime, int]]:
    """(time, edition) of every check of a statement within the year: a back-off from its
    first day, two silent edits among the first checks (three versions in all, fewer for the
    statements of the last three days, whose edits are still to come)."""
    rng = random.Random(spec.number * 7919)
    first = published(spec) + timedelta(minutes=spec.number % 240)
    end = YEAR_START + timedelta(days=DAYS)
    edits = sorted(rng.sample(range(1, 4), 2))
    out = []
    for k, hours in enumerate(OFFSETS_H):
        when = first + timedelta(hours=hours)
        if when >= end:
            break
        out.append((when, sum(1 for e in edits if e <= k)))
    return out


def synthetic_meta(s: int) -> StatementMeta:
    """The metadata of bench_report's and bench_site's numbered stand-in statement ``s`` (five
    sources and agencies in turn): one definition, so both benchmarks measure the same stores."""
    sid = f"src-{s % 5}/statement-{s:05d}"
    return StatementMeta(
        id=sid,
        source=sid.split("/", maxsplit=1)[0],
        url=f"https://example.gov/{s}",
        title=f"Statement {s}",
        agency=f"Agency {s % 5}",
    )
