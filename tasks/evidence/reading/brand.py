"""The name of the party that publishes a document: its brand, by agreement of the places
real pages put it.

Candidates come from every place a page names its publisher, each with a weight for how
reliably that place does: the seller a marketplace listing names ("Sold by X", "Offered by X",
"Penjual: X"), ``og:site_name``, a JSON-LD publisher or organisation name, ``application-name``,
a logo's alt text, the copyright holder ("© 2024 Name"), the name-like part of ``<title>``, the
first heading (an HTML <h1>/<h2>, a Markdown H1, a plain text's first line), the names of
``Website:``/``Developer:`` lines, and the words of the text that spell one of the publisher's
own domains ("Kestrel Ping" for kestrelping.co.uk). Candidates that name the same party (compared
folded, without spaces, punctuation or legal form) add up, and a candidate that spells one of the
page's own domains gains more: the party with the most support wins, and the spelling shown is
that of its most trusted source (a shouted "GEMA BLAST" heading gives way to "Gema Blast").

The brand is the trading name: a trailing legal form ("Ltd", "s.r.o.", "Ltda", a leading "PT")
is dropped. The messaging platform's own name counts only from the places a publisher names
itself (site name, publisher, copyright, logo), never from a title or heading that merely
mentions it ("Bulk WhatsApp Sender | Zapio"); a page the platform publishes is "WhatsApp".
Last comes the URL: its registered domain's label, or for a site on a shared host its own part
(``acme.github.io``, ``github.com/acme/bulkzap``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from tasks.evidence.reading.hosts import PLATFORM_DOMAINS
from tasks.evidence.reading.html_text import Page, parse_page
from tasks.evidence.reading.indicators import fold, host_parts, registered_domain
from tasks.evidence.reading.json_ld import json_ld_nodes
from tasks.evidence.reading.shared_domains import is_link_host, is_shared, link_hosts
from tasks.evidence.reading.skeleton import MIN_LENGTH, has_devanagari, skeleton

_YEAR = r"(?:19|20)\d\d"

_TITLE_SEPARATOR = re.compile(r"\s*[|•·»«]\s*|\s+[-–—~/]\s+|\s*::\s*|:\s+")
_NAME_WORD_CONNECTORS = frozenset(
    {"de", "da", "do", "dos", "das", "del", "la", "el", "y", "e", "and", "&", "of", "the", "a"}
)
_MAX_NAME_WORDS = 5
# Title parts and texts that name a page or a state, not a party (folded).
_GENERIC_NAMES = frozenset(
    {
        "home", "homepage", "home page", "inicio", "pagina inicial", "pagina principal",
        "beranda", "halaman utama", "domov", "uvod", "welcome", "bem-vindo", "bienvenido",
        "selamat datang", "vitajte", "index", "pricing", "prices", "precos", "precios", "harga",
        "cennik", "contact", "contact us", "contato", "contacto", "kontak", "kontakt", "about",
        "about us", "sobre", "sobre nos", "acerca de", "tentang kami", "o nas", "blog", "login",
        "log in", "sign in", "sign up", "entrar", "masuk", "daftar", "prihlasenie",
        "official site", "official website", "site oficial", "sitio oficial", "situs resmi",
        "untitled", "untitled document", "document", "404", "page not found", "not found",
        "error", "access denied", "forbidden", "just a moment...", "just a moment",
        "attention required!", "cloudflare", "loading...", "redirecting...", "faq", "features",
        "download", "downloads", "docs", "documentation", "news", "noticias", "berita",
        "spravy", "shop", "store", "loja", "tienda", "toko", "obchod", "products", "services",
        "the authors", "contributors", "the contributors", "all rights reserved",
        "thread", "message", "messages", "sms", "top rated", "hiring now", "we are hiring",
        "vaga", "lowongan", "scam alert", "alerta", "readme", "herramientas", "teknologi",
        "properti", "gestao", "nivel", "level", "videne", "chrome web store", "google play",
        "play store", "app store", "chrome वेब स्टोर", "marketplace", "forum",
    }
)  # fmt: skip
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|copyright\b|hak\s+cipta\b)\s*(?:©|\(c\))?\s*"
    rf"(?:{_YEAR}(?:\s*[-–—]\s*(?:{_YEAR}|present|now))?\s*[,.]?\s*)?(?:by\s+)?"
    r"(?P<name>[^\n|•·©]{2,100})",
    re.IGNORECASE,
)
_COPYRIGHT_END = re.compile(
    r"\s*(?:\ball rights reserved|\btodos os direitos|\btodos los derechos|\bhak cipta"
    r"|\bv[sš]etky pr[aá]va|\bsome rights reserved|\bpowered by|\bdesigned by|\bdeveloped by"
    r"|\bmade with|\blicen[sc]ed|\s[-–—|/]\s)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(\S*)\.\s")
# Abbreviated legal forms whose dot is part of the name, not the end of a sentence (folded).
_LEGAL_ABBREVIATIONS = frozenset(
    {
        "s.r.o", "spol", "a.s", "inc", "ltd", "corp", "co", "llc", "ltda", "s.a", "s.l", "s.a.s",
        "eireli", "tbk", "b.v", "n.v", "pty", "plc", "gmbh", "ag", "cv", "pt", "s.a.c", "sp",
        "s.c", "k.s", "v.o.s", "s.p.a", "srl", "s.r.l",
    }
)  # fmt: skip
_MARKDOWN_HEADING = re.compile(
    r"^#{1,2}[ \t]+(?P<atx>[^\n]{1,300}?)[ \t#]*$|^(?P<setext>[^\n]{1,300})\n=+[ \t]*$"
    r"|<h1\b[^>]{0,500}>(?P<html>[^<]{0,300}(?:<[^>]{0,500}>[^<]{0,300}){0,10}?)</h1>",
    re.MULTILINE | re.IGNORECASE,
)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]{0,300}\]\([^)\n]{0,500}\)")
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\n]{0,500}\)")
_TAG = re.compile(r"<[^<>]{0,500}>")
_CODE_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# Words before a name in a title or heading that are not part of it: "Contact Chatlytics".
_GENERIC_PREFIX = re.compile(
    r"^(?:contact(?:\s+us)?|about(?:\s+us)?|welcome\s+to|contat[eo]|fale\s+com|sobre(?:\s+[ao])?"
    r"|contacto|acerca\s+de|bienvenid[oa]s?\s+a|bem-vind[oa]s?\s+(?:[àa]|ao)|kontak(?:\s+kami)?"
    r"|tentang(?:\s+kami)?|selamat\s+datang\s+di|kontakt(?:y)?|o\s+n[aá]s|vitajte\s+(?:na|v)"
    # the page's section before the name: "Tarifas Avispa", "Dokumentasi API Ardana Gateway"
    r"|pricing|plans|tarifas|precios|planos|pre[cç]os|paket|harga|cenn[ií]k|blog|case\s+study"
    r"|statement\s+from|comunicado\s+de|docs|documentation|dokumentasi(?:\s+api)?"
    r"|documenta[cç][aã]o|documentaci[oó]n|dokument[aá]cia|by|por|oleh|od)\s+",
    re.IGNORECASE,
)
# Words after a name that name a section of its site: "Nimbusend Help Center", "Iguana API
# Referencia", "Lastovička – Pomoc" are Nimbusend, Iguana API and Lastovička.
_SECTION_SUFFIX = re.compile(
    r"(?i)(?<!\bfor)[\s\-–—:|·]+(?:help\s*cent(?:er|re)|help|plans|pricing|contributors|support(?:\s+cent(?:er|re))?|docs|documentation"
    r"|reference|referencia|refer[eê]ncia|developers?|blog|newsroom"
    r"|news|press|ayuda|centro\s+de\s+ayuda|central\s+de\s+ajuda|ajuda|suporte|soporte"
    r"|bantuan|pusat\s+bantuan|pomoc|podpora|dokument[aá]cia|dokumentasi|documenta[cç][aã]o"
    r"|documentaci[oó]n|base\s+de\s+conhecimento|knowledge\s+base|faq)\s*$"
)
# Who sells a marketplace listing, at the start of a line or after a separator.
_SELLER = re.compile(
    r"(?im)(?:^|[|·•]\s*)[ \t]*(?:sold\s+by|seller|sold\s+and\s+shipped\s+by|vendido\s+por"
    r"|vendedora?|vendido\s+y\s+enviado\s+por|dijual\s+oleh|penjual|predajca|pred[aá]va)"
    r"\s*[:\-–]?[ \t]+(?P<name>[^\n]{2,120})"
)
_SELLER_NAME_END = re.compile(r"\s*[|·•⭐★(,;]|\s+[-–—]\s+|\s+\d")
# A page heading stands for a name only when it is that short (longer ones are slogans).
_MAX_HEADING_NAME_WORDS = 3
_ORGANIZATION_TYPES = frozenset(
    {"Organization", "Corporation", "LocalBusiness", "Brand", "NewsMediaOrganization"}
)
_CODE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
# Shared hosts that give each site its own subdomain (acme.github.io, acme.netlify.app).
_SITE_HOSTS = frozenset(
    {
        "github.io", "gitlab.io", "netlify.app", "vercel.app", "pages.dev", "herokuapp.com",
        "firebaseapp.com", "web.app", "blogspot.com", "wordpress.com", "wixsite.com",
        "weebly.com", "webflow.io", "carrd.co", "notion.site", "substack.com", "medium.com",
        "squarespace.com", "myshopify.com", "tumblr.com",
    }
)  # fmt: skip
# Titles of error pages: "404 Not Found", "Error 503", "502 Bad Gateway".
_HTTP_ERROR = re.compile(r"^(?:error\s*)?[45]\d\d\b")


# Weights of the places a page names its publisher: how reliably each one does.
_WEIGHTS = {
    "seller": 6, "site_name": 4, "publisher": 4, "organization": 3, "application": 3,
    "logo": 3, "copyright": 3, "domain": 3, "labelled": 3, "title": 2, "heading": 2,
    "website": 1, "product": 1, "legal_name": 1, "url": 1, "platform_site": 3,
    "platform_hosts": 2,
}  # fmt: skip
# In a README or a plain text the first heading is the project's name and a copyright line
# usually a licence holder's: their weights swap.
_TEXT_WEIGHTS = {**_WEIGHTS, "heading": 3, "copyright": 2}
# The places a publisher names itself: only these may name the platform as the publisher.
_SELF_NAMING = frozenset(
    {
        "site_name", "publisher", "organization", "application", "logo", "copyright",
        "platform_site", "platform_hosts",
    }
)  # fmt: skip
# Whose spelling of a name is shown, most trusted first.
_SPELLING_ORDER = (
    "site_name", "publisher", "organization", "application", "logo", "seller", "labelled",
    "title", "heading", "copyright", "domain", "website", "product", "legal_name", "url",
    "platform_site", "platform_hosts",
)  # fmt: skip
PLATFORM_NAME = "WhatsApp"
_PLATFORM_KEYS = frozenset(
    {
        "whatsapp", "whatsappbusiness", "whatsappllc", "whatsappinc", "whatsappbusinessplatform",
        "meta", "metaplatforms", "metafordevelopers", "facebook", "whatsappcloudapi",
        "whatsappbusinessapi", "whatsapphelpcenter", "whatsappdocs",
    }
)  # fmt: skip
# A title or heading part that names the platform's own site: "WhatsApp Help Center",
# "Plataforma do WhatsApp Business", "Pusat Bantuan WhatsApp", "WhatsApp Terms of Service".
_PLATFORM_SITE = re.compile(
    r"(?i)^(?:(?:whatsapp|meta)\s+(?:help\s+cent(?:er|re)|business\s+platform|for\s+developers"
    r"|terms\s+of\s+service|business\s+messaging\s+policy|cloud\s+api|business\s+api"
    r"|developers|business)|(?:central\s+de\s+ajuda|centro\s+de\s+ayuda|pusat\s+bantuan"
    r"|centrum\s+pomoci|plataforma|platform|pol[ií]tica|kebijakan|termos|t[eé]rminos)"
    r"(?:\s+(?:do|de|del|da))?\s+whatsapp(?:\s+business)?|whatsapp\s+(?:सहायता\s+केंद्र|बिज़नेस\s+प्लेटफ़ॉर्म))"
    r"(?:\s|$)"
)
# "Offered by: X", "Developer: X", "Website: X" on store listings and contact blocks.
_LABELLED = re.compile(
    r"(?im)^[ \t*_>•·-]*(?:offered\s+by|developer|developed\s+by|publisher|website|company"
    r"|ofrecido\s+por|desarrollador|oferecido\s+por|desenvolvedor|empresa|ditawarkan\s+oleh"
    r"|pengembang|perusahaan|pon[uú]ka|v[yý]voj[aá]r|spolo[cč]nos[tť]|डेवलपर|कंपनी)"
    r"[ \t]*[:\-–][ \t]*(?P<name>[^\n]{2,120})"
)
_LABELLED_END = re.compile(
    r"\s*[|·•⭐★(,;]|\s+[-–—]\s+|\s+\d|\s+(?:contact|kontak|contato)\b", re.I
)
_LEGAL_NAME = re.compile(
    r"\b(?:PT|CV)\.?\s+(?P<pt>[A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,4})"
    r"|(?P<name>[A-Z][\w&'’-]*(?:\s+(?:[A-Z][\w&'’-]*|&|de|do|da)){0,4}),?\s+"
    r"(?:Ltd|LLC|Inc|Limited|s\.\s?r\.\s?o|Ltda|S\.\s?A|SpA|S\.\s?R\.\s?L|Pvt|GmbH|Tbk)\b"
)
# A trailing legal form, and Indonesia's leading ones, in any case: dropped from the brand.
_LEGAL_SUFFIX = re.compile(
    r"(?i)[\s,]+(?:spol\.?\s*s\s*r\.?\s*o\.?|s\.?\s*r\.?\s*o\.?|a\.\s*s\.|ltd\.?|limited|inc\.?"
    r"|llc\.?|gmbh|b\.\s*v\.|plc|corp\.?|ltda\.?|lda\.?|eireli|s\.?\s*a\.?\s*de\s*c\.?\s*v\.?"
    r"|s\.?\s*a\.?\s*s\.?|s\.\s*a\.?|s\.\s*l\.?|sa|spa|srl|s\.\s*r\.\s*l\.?|tbk\.?"
    r"|pvt\.?(?:\s+ltd\.?)?|private\s+limited|pty(?:\s+ltd\.?)?)\s*$"
)
_LEGAL_PREFIX = re.compile(r"^(?:PT|CV)\.?\s+(?=\S)")
# A legal form inside a longer string: "Pylon Panel FZ-LLC, Dubai", "Brightwell (Pty) Ltd".
_LEGAL_WORD = re.compile(
    r"(?i)[\s,]+\(?(?:fz-?llc|llc|ltd|limited|inc|pty|plc|gmbh|ltda|s\.\s?r\.\s?o|spol\."
    r"|s\.\s?a\.(?:\s?de\s?c\.\s?v\.)?|s\.a\.s|sas|spa|srl|pvt|tbk|eireli)\b"
)
_FIRST_LINE_REACH = 3
_MIN_MENTIONS = 2
_LABEL_PREFIX = 6
# What a name never holds: a year, a word of digits, a path or URL.
_NOT_A_NAME = re.compile(rf"\b{_YEAR}\b|(?:^|\s)[\d.,:()/+-]+(?:\s|$)|/|://")
_SURFACE_REACH = 50_000
_SURFACE_WORDS = 4
# A word: Devanagari vowel signs and viramas (not alphanumeric to Python) stay inside it.
_WORD_TOKEN = re.compile(r"[^\W_](?:[^\W_]|[\u0900-\u0963])*")
# Storefront hosts whose subdomain is the seller's own name (grabnest.gumroad.com).
_STOREFRONTS = frozenset({"gumroad.com", "myr.id", "lynk.id", "carrd.co", *_SITE_HOSTS})


@dataclass(frozen=True)
class _Candidate:
    source: str
    name: str


def brand(
    document: str, url: str | None = None, domains: Iterable[str] = (), hosts: Iterable[str] = ()
) -> str | None:
    """The name of the party that publishes ``document``; None if nothing names one.

    ``domains`` are the publisher's own registrable domains (its hosts' and its addresses'),
    ``hosts`` every host the page names: a name that spells one of them is the publisher's.
    """
    page = parse_page(document)
    text = page.text if page.is_html else document[:200_000]
    hosts = list(hosts)
    labels = _domain_labels(url, domains, hosts)
    candidates = list(_candidates(page, text, url, labels))
    if any(registered_domain(h) in PLATFORM_DOMAINS and not is_link_host(h) for h in hosts):
        # The platform's own sites linked (developers.facebook.com/docs): support for the
        # platform as the publisher, where something else names it so.
        candidates.append(_Candidate("platform_hosts", PLATFORM_NAME))
    weights = _WEIGHTS if page.is_html else _TEXT_WEIGHTS
    return _winner(candidates, labels, weights, text)


def is_platform(name: str | None) -> bool:
    """Whether ``name`` is the messaging platform's (a page the platform publishes)."""
    return name is not None and _is_platform_key(_key(name))


def _is_platform_key(key: str) -> bool:
    """The platform's names: "WhatsApp", "WhatsApp Business Platform", "Meta for Developers"."""
    return key in _PLATFORM_KEYS or key.startswith(("whatsapp", "metafor"))


def _candidates(page: Page, text: str, url: str | None, labels: set[str]) -> Iterator[_Candidate]:
    metas = dict(reversed(page.metas))  # the first of each key wins
    yield from _named("seller", [_seller_name(text)])
    yield from _named("site_name", [metas.get("og:site_name")])
    yield from _json_ld_candidates(page)
    yield from _named("application", [metas.get("application-name")])
    yield from _named("logo", page.logo_alts[:2])
    yield from _named("labelled", _labelled_names(text))
    if page.is_html:
        yield from _named("title", [_title_name(page.title, url)])
        yield from _named("heading", [_html_heading_name(page, url)])
        heads = [page.title or "", *(h for _, h in page.headings[:2])]
    else:
        yield from _named(
            "heading", [_markdown_heading_name(text, url) or _first_line_name(text, labels)]
        )
        heads = _first_lines(text)
    if any(_PLATFORM_SITE.match(part) for head in heads for part in _head_parts(head)):
        yield _Candidate("platform_site", PLATFORM_NAME)
    yield from _named("copyright", [_copyright_name(text)])
    yield from _named("domain", _spelled_domains(text, labels))
    yield from _named("legal_name", [m.group("pt") or m.group("name") for m in _legal_names(text)])
    yield from _named("url", [_url_name(url)])


def _named(source: str, names: Iterable[str | None]) -> Iterator[_Candidate]:
    for name in names:
        cleaned = _clean_name(name)
        if cleaned is not None:
            yield _Candidate(source, cleaned)


def _winner(
    candidates: list[_Candidate], labels: set[str], weights: dict[str, int], text: str
) -> str | None:
    """The best supported party's name: sources agreeing on it add up, once each."""
    groups: dict[str, dict[str, str]] = {}
    for candidate in candidates:
        key = _key(candidate.name)
        if not key or key in _marketplace_keys():
            continue
        if _is_platform_key(key) and candidate.source not in _SELF_NAMING:
            continue
        if _host_like(candidate.name):
            continue  # "Offered by: aurasend.app" votes through the domain labels
        groups.setdefault(key, {}).setdefault(candidate.source, candidate.name)
    _merge_scripts(groups)
    platform = _key(PLATFORM_NAME)
    for key in [k for k in groups if k != platform and _is_platform_key(k)]:
        for source, name in groups.pop(key).items():
            groups.setdefault(platform, {}).setdefault(source, name)
    if set(groups.get(platform, {})) == {"platform_hosts"}:
        del groups[platform]  # linking the platform's docs alone says nothing of who publishes
    if not groups:
        return None

    def support(key: str) -> tuple[int, int]:
        score = sum(weights[source] for source in groups[key])
        if "domain" not in groups[key] and _spells_label(key, labels):
            score += weights["domain"]
        best_rank = min(_SPELLING_ORDER.index(source) for source in groups[key])
        return score, -best_rank

    key = max(groups, key=support)
    if key == platform:
        return PLATFORM_NAME
    return _spelling(key, groups[key], text)


def _merge_scripts(groups: dict[str, dict[str, str]]) -> None:
    """One party named in Devanagari and in Latin letters ("ओम सहायक" beside "Om Sahayak")
    is one group, kept under its Latin key."""
    latin = {skeleton(key): key for key in groups if not has_devanagari(key)}
    for key in [k for k in groups if has_devanagari(k)]:
        twin = latin.get(skeleton(key))
        if twin is not None and len(skeleton(key)) >= MIN_LENGTH:
            for source, name in groups.pop(key).items():
                groups[twin].setdefault(source, name)


def _spelling(key: str, sources: dict[str, str], text: str) -> str:
    """The most trusted spelling; a lower-case or shouted one ("wa-sender", "GEMA BLAST")
    gives way to the text's own spelling of the name, if it has one."""
    full = [sources[s] for s in _SPELLING_ORDER if s in sources]
    quiet = [n for n in full if not _shouted(n) and not n.islower()]
    if quiet:
        return _trading_name(quiet[0])
    spelled = _spelled_domains(text, {key})
    if spelled and not _shouted(spelled[0]) and not spelled[0].islower():
        return _trading_name(spelled[0])
    return _trading_name(full[0].title() if _shouted(full[0]) else full[0])


@cache
def _marketplace_keys() -> frozenset[str]:
    """Names of marketplaces, stores and code hosts (fiverr, workana, github): the place a
    listing stands, never its publisher."""
    keys = {_key(host_parts(host).domain) for host in link_hosts()}
    return frozenset(k for k in keys if k and not _is_platform_key(k))


def _shouted(name: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    return len(letters) > 4 and all(c.isupper() for c in letters)


def _trading_name(name: str) -> str:
    """``name`` without its legal form or what follows it: "Kestrel Ping Ltd" → "Kestrel Ping",
    "Echotide Ltd, Manchester" → "Echotide", "Jet Sandesh, Noida" → "Jet Sandesh"."""
    stripped = _LEGAL_PREFIX.sub("", name)
    found = _LEGAL_WORD.search(stripped)
    if found is not None and found.start() > 0:
        stripped = stripped[: found.start()]
    stripped = stripped.split(", ", 1)[0]
    while True:
        shorter = _LEGAL_SUFFIX.sub("", stripped)
        if shorter == stripped:
            break
        stripped = shorter
    return stripped.strip(" ,-–—") or name


def _key(name: str) -> str:
    """What names are compared by: folded, letters and digits only, no legal form."""
    return "".join(c for c in fold(_trading_name(name)) if c.isalnum())


def _host_like(name: str) -> bool:
    return " " not in name and "." in name.strip(".") and host_parts(name).suffix != ""


def _spells_label(key: str, labels: set[str]) -> bool:
    if has_devanagari(key):
        sounds = skeleton(key)
        return len(sounds) >= MIN_LENGTH and any(skeleton(label) == sounds for label in labels)
    return any(key == label or (len(key) >= 4 and label.startswith(key)) for label in labels)


def _domain_labels(url: str | None, domains: Iterable[str], hosts: Iterable[str]) -> set[str]:
    """The publisher's domain labels (kestrelping.co.uk → kestrelping), and the seller's part of
    a storefront host (grabnest.gumroad.com → grabnest)."""
    labels = set()
    for domain in [*domains, *([url] if url else [])]:
        parts = host_parts(domain)
        if parts.domain and parts.suffix and not is_shared(parts.top_domain_under_public_suffix):
            labels.add(_key(parts.domain))
    for host in hosts:
        parts = host_parts(host)
        sub = [s for s in parts.subdomain.lower().split(".") if s and s != "www"]
        if sub and parts.top_domain_under_public_suffix.lower() in _STOREFRONTS:
            labels.add(_key(sub[-1]))
    return {label for label in labels if len(label) >= 3}


def _spelled_domains(text: str, labels: set[str]) -> list[str]:
    """Words of the text that spell one of ``labels`` ("Kestrel Ping" for kestrelping, "मैसेज
    मित्र" for messagemitra), most frequent first; a spelling inside an address or a URL does
    not count."""
    if not labels:
        return []
    sounds = {s for s in map(skeleton, labels) if len(s) >= MIN_LENGTH}
    counts: dict[str, int] = {}
    words = list(_WORD_TOKEN.finditer(text[:_SURFACE_REACH]))
    for i, first in enumerate(words):
        if text[first.start() - 1 : first.start()] in {"@", ".", "/"}:
            continue
        # Devanagari words are compared with the labels by sound, Latin ones letter by letter.
        devanagari = has_devanagari(first.group(0))
        targets = sounds if devanagari else labels
        squashed = ""
        for last in words[i : i + _SURFACE_WORDS]:
            surface = text[first.start() : last.end()]
            squashed = skeleton(surface) if devanagari else squashed + fold(last.group(0))
            if squashed in targets:
                end = last.end()
                if text[end : end + 1] in {"@", "."} and text[end + 1 : end + 2].isalnum():
                    break
                if "\n" not in surface:
                    counts[surface] = counts.get(surface, 0) + 1
                break
            if not any(target.startswith(squashed) for target in targets):
                break
    ranked = sorted(counts, key=lambda s: (s.islower(), _shouted(s), -counts[s]))
    return ranked[:1]


def _json_ld_candidates(page: Page) -> Iterator[_Candidate]:
    """The publisher's name, organisations', the web site's and products' (weakest)."""
    for node in json_ld_nodes(page):
        publisher = node.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            yield from _named("publisher", [publisher["name"]])
        for key in ("brand", "manufacturer", "author"):
            owner = node.get(key)
            if isinstance(owner, dict) and isinstance(owner.get("name"), str):
                yield from _named("organization", [owner["name"]])
        kind = node.get("@type")
        kinds = {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()
        name = node.get("name")
        if not isinstance(name, str):
            continue
        if kinds & _ORGANIZATION_TYPES:
            yield from _named("organization", [name])
        elif "WebSite" in kinds:
            yield from _named("website", [name])
        elif kinds & {"Product", "SoftwareApplication", "MobileApplication", "WebApplication"}:
            yield from _named("product", [_pick_name(_name_parts(name), None)])


def _labelled_names(text: str) -> Iterator[str]:
    for found in _LABELLED.finditer(text[:200_000]):
        name = _LABELLED_END.split(found.group("name"), maxsplit=1)[0].strip()
        name = re.sub(r"^https?://", "", name).rstrip("/")
        if 0 < len(name.split()) <= _MAX_NAME_WORDS:
            yield name


def _legal_names(text: str) -> Iterator[re.Match[str]]:
    for count, found in enumerate(_LEGAL_NAME.finditer(text[:200_000])):
        if count >= 2:
            return
        yield found


def _first_lines(text: str) -> list[str]:
    lines = (line.strip(" \t*_#>") for line in text.splitlines() if line.strip())
    return [line for _, line in zip(range(_FIRST_LINE_REACH), lines, strict=False)]


def _head_parts(head: str) -> list[str]:
    """A title's, heading's or breadcrumb's parts: "Docs > Cloud API" is two."""
    return [part for piece in head.split("›") for part in _name_parts(piece.strip())]


def _first_line_name(text: str, labels: set[str]) -> str | None:
    """A plain text's name: a name-like part of one of its first lines that the text names
    again, or that starts like one of the publisher's domains ("GEMA BLAST — Software WA Blast
    No. 1" on a page about Gema Blast; "Dockside Retail Journal" of docksidejournal.com). A
    part that is neither is the page's headline ("NOTA DE ESCLARECIMENTO"), not a name."""
    folded = fold(text)
    for line in _first_lines(text):
        if len(line) > 120 or "›" in line:
            continue  # a sentence, or a breadcrumb of the site's sections
        parts = [
            part
            for part in _name_parts(line)
            if not _host_like(part)
            and len(part.split()) <= _MAX_HEADING_NAME_WORDS
            and _clean_name(part) is not None
            and (
                folded.count(fold(part)) >= _MIN_MENTIONS
                or any(_key(part)[:_LABEL_PREFIX] == label[:_LABEL_PREFIX] for label in labels)
            )
        ]
        name = _pick_name(parts, None)
        if name is not None:
            return name
    return None


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    name = " ".join(name.split()).strip(" -–—|:·,;*_`")
    name = _SECTION_SUFFIX.sub("", name).strip(" -–—|:·,;*_`")
    if not name or len(name) > 100 or not any(c.isalpha() for c in name):
        return None
    if _NOT_A_NAME.search(name):
        return None  # "Jan 2023", "Level 2", "Florianópolis/SC", "`https://api.x.in/v2`"
    return None if _generic(name) else name


def _generic(name: str) -> bool:
    folded = fold(name)
    return folded in _generic_keys() or _HTTP_ERROR.match(folded) is not None


@cache
def _generic_keys() -> frozenset[str]:
    # Folded as the names they are compared with: folding drops Devanagari's viramas.
    return frozenset(map(fold, _GENERIC_NAMES))


def _title_name(title: str | None, url: str | None) -> str | None:
    return _pick_name(_name_parts(title), url) if title else None


def _name_parts(text: str) -> list[str]:
    """The parts of a title or heading between separators, without "Contact", "Welcome to"..."""
    parts = (_GENERIC_PREFIX.sub("", part.strip()) for part in _TITLE_SEPARATOR.split(text))
    return [part for part in parts if part]


def _pick_name(parts: list[str], url: str | None) -> str | None:
    """The part that names the party: the one matching the URL's domain, else the name-like part
    with the fewest words, the last of equals ("Pricing | BulkZap", "Page | Site")."""
    label = _squash(_domain_label(url) or "")
    if label:
        for part in parts:
            squashed = _squash(part)
            if squashed and (squashed == label or (len(label) >= 3 and label in squashed)):
                return part
    names = [part for part in parts if _looks_like_name(part)]
    if not names:
        return None
    fewest = min(len(part.split()) for part in names)
    return [part for part in names if len(part.split()) == fewest][-1]


def _looks_like_name(part: str) -> bool:
    if _generic(part):
        return False
    words = part.split()
    if not 1 <= len(words) <= _MAX_NAME_WORDS:
        return False
    return all(
        word[0].isupper() or word[0].isdigit() or any(c.isupper() for c in word[1:])
        for word in words
        if word.lower() not in _NAME_WORD_CONNECTORS and word[0].isalpha()
    )


def _copyright_name(text: str) -> str | None:
    """The holder in the last "© 2024 Name" of the text (the footer, not a quoted licence)."""
    best = None
    for found in _COPYRIGHT.finditer(text):
        name = _first_sentence(found.group("name"))
        end = _COPYRIGHT_END.search(name)
        if end is not None:
            name = name[: end.start()]
        name = re.sub(rf"[\s,]*(?:{_YEAR}(?:\s*[-–—]\s*{_YEAR})?)?[\s,©]*$", "", name).strip()
        words = name.split()
        short = 0 < len(words) <= _MAX_NAME_WORDS + 1
        if short and any(c.isalpha() for c in name) and _clean_name(name) is not None:
            best = name
    return best


def _first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence; "Reach Media s.r.o." keeps its dot."""
    for found in _SENTENCE_END.finditer(text + " "):
        if fold(found.group(1)).rsplit(" ", 1)[-1] in _LEGAL_ABBREVIATIONS:
            return text[: found.end()].rstrip()
        return text[: found.start(0) + len(found.group(1))]
    return text


def _seller_name(text: str) -> str | None:
    """The seller a marketplace listing names ("Sold by X", "Vendido por X", "Penjual: X")."""
    found = _SELLER.search(text)
    if found is None:
        return None
    name = _SELLER_NAME_END.split(found.group("name"), maxsplit=1)[0].strip()
    return name if 0 < len(name.split()) <= _MAX_NAME_WORDS else None


def _html_heading_name(page: Page, url: str | None) -> str | None:
    """A name that heads the page: its first <h1> (else <h2>) when that is a short name, or
    starts with one before a tagline ("GrupoLeads — Extrator de contatos")."""
    levels = [text for tag in ("h1", "h2") for level, text in page.headings if level == tag]
    if not levels:
        return None
    name = _heading_name(levels[0], url)
    if name is None or len(name.split()) > _MAX_HEADING_NAME_WORDS:
        return None
    return name if _looks_like_name(name) else None


def _markdown_heading_name(markdown: str, url: str | None) -> str | None:
    """The project name in a README's first H1 (or H2, where the README opens with one)."""
    found = _MARKDOWN_HEADING.search(_CODE_FENCE.sub("", markdown))
    if found is None:
        return None
    heading = found.group("atx") or found.group("setext") or found.group("html") or ""
    return _heading_name(heading, url)


def _heading_name(heading: str, url: str | None = None) -> str | None:
    """A heading's name part, without badges, links, emoji or a tagline after a separator; a
    README's lower-case project name ("wa-sender") counts when it stands first and alone."""
    heading = _MARKDOWN_IMAGE.sub(" ", heading)
    heading = _MARKDOWN_LINK.sub(r"\1", heading)
    heading = _TAG.sub(" ", heading)
    heading = "".join(c if _name_char(c) else " " for c in heading)
    parts = _name_parts(heading)
    if not parts:
        return None
    name = _pick_name(parts, url)
    if name is None and len(parts[0].split()) == 1 and not _generic(parts[0]):
        return parts[0]
    return name


def _name_char(c: str) -> bool:
    return c.isalnum() or c in " .-&+'’_|:–—/" or unicodedata.category(c) == "Zs"


def _url_name(url: str | None) -> str | None:
    """The URL's domain label, or on a shared host the site's own part of the address."""
    if not url:
        return None
    parts = host_parts(url)
    registered = parts.top_domain_under_public_suffix.lower()
    if not registered:
        return None
    if not is_shared(registered):
        return str(parts.domain)
    if registered in _CODE_HOSTS:
        path = re.sub(r"^[a-z]+://[^/]+", "", url.strip(), flags=re.IGNORECASE)
        segments = [s for s in path.split("?")[0].split("#")[0].split("/") if s]
        return segments[1] if len(segments) > 1 else segments[0] if segments else None
    if registered not in _SITE_HOSTS:
        return None  # api.whatsapp.com, m.facebook.com: the platform's own hosts
    labels = [s for s in parts.subdomain.lower().split(".") if s and s != "www"]
    return labels[-1] if labels else None


def _domain_label(url: str | None) -> str | None:
    if not url:
        return None
    parts = host_parts(url)
    if not parts.domain or not parts.suffix:
        return None
    return None if is_shared(parts.top_domain_under_public_suffix) else str(parts.domain)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))
