"""The hosts a document names, sorted into the publisher's own and everybody's link hosts.

A host is kept exactly as written (``api.vendor.example``), lower-cased; its registrable domain
(``vendor.example``, by tldextract's bundled suffix list) is what companies are keyed on. Hosts
are read where a page writes them: with a scheme or ``//``, with ``www.``, in the attribute
values that hold addresses (``href``, ``src``, ``content``, ``data-*``) and JSON-LD, and bare in
prose ("visit bulkzap.io"). Scripts are not read: they name every CDN and analytics host.

Each host then falls in one of four bins:

* a link host (``data/link_hosts.txt``): chat links, shorteners, link-in-bio pages, marketplaces,
  app and extension stores, checkouts, code hosts. Anyone can have a page there, so they are
  reported in their own field and never key a company;
* a shared host (``data/shared_domains.txt``, not a link host): free mail, hosting, CDNs,
  dropped; the messaging platform's own hosts are kept apart, as the publisher's hosts of a page
  the platform publishes;
* an example: a documentation domain (example.com, exemplo.com, contoh.com, priklad.sk), a
  reserved test name (.test, .example, .invalid, .localhost), a template ("panel.yourbrand.com",
  "painel.suaempresa.com.br"), or any host written just after "e.g.", "ex.:", "napr.", "misal",
  "जैसे". Never anyone's;
* otherwise the publisher's own.

A bare hostname in prose must look like one: not a file (README.md, setup.py), not a version
(v1.io), not code (``client.send``: a quoted or fenced name), not the domain part of an address
written out ("sales (at) vendor.sk"), not a forum user name after "by", "por", "oleh".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from tasks.evidence.reading.html_text import Page
from tasks.evidence.reading.indicators import host_parts, registered_domain
from tasks.evidence.reading.shared_domains import is_link_host, is_shared


@dataclass(frozen=True)
class Hosts:
    own: tuple[str, ...]  # the publisher's hosts as written, lower-case, sorted
    link: tuple[str, ...]  # link, chat, shortener, marketplace, store and checkout hosts
    # The platform's own hosts (developers.facebook.com): the publisher's on its own pages only.
    platform: tuple[str, ...] = ()

    @property
    def domains(self) -> tuple[str, ...]:
        """Registrable domains of the publisher's hosts, sorted."""
        return tuple(sorted({d for d in map(registered_domain, self.own) if d}))


# The platform's own registrable domains: its hosts are the publisher's only on its own pages.
PLATFORM_DOMAINS = frozenset(
    {"whatsapp.com", "whatsapp.net", "facebook.com", "fb.com", "meta.com", "messenger.com"}
)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+[a-z]{{2,63}}"
# After "//" (with a scheme or protocol-relative), past any user@ part.
_URL_HOST = re.compile(rf"(?i)//(?:[^\s/@\"'<>]{{1,64}}@)?({_HOST})(?![a-z0-9\-])")
_WWW_HOST = re.compile(rf"(?i)(?<![\w.\-/@])(www\d?\.{_HOST})(?![a-z0-9\-])")
_BARE_HOST = re.compile(rf"(?i)(?<![\w.\-/@:\\])({_HOST})(?![\w\-@(]|\.[a-z0-9])")
_CODE = re.compile(r"```.*?```|`[^`\n]{1,300}`", re.DOTALL)
# File extensions that are also top-level domains: README.md, setup.py, run.sh, lib.so, main.rs,
# archive.zip, clip.mov. Written bare they are files; only a scheme or "www." makes them hosts.
# (Extensions that are not TLDs, such as .js .json .html .php .txt .png, fail the suffix list.)
_FILE_EXTENSIONS = frozenset(
    {
        "md", "py", "sh", "so", "rs", "zip", "mov", "ps", "pl", "js", "ts", "json", "html",
        "htm", "php", "txt", "png", "jpg", "jpeg", "gif", "svg", "css", "yml", "yaml", "xml",
        "csv", "pdf", "exe", "java", "go", "rb", "kt", "swift", "lock", "ini", "cfg", "toml",
        "sc", "on", "log",
    }
)  # fmt: skip
_MAX_HOSTS = 20_000  # distinct hostnames looked up per document
_VERSION_LIKE = re.compile(r"^v?\d+$", re.IGNORECASE)
# Words after which a host is an example: "e.g. panel.yourbrand.com", "napr. kampane.firma.sk".
_EXAMPLE_BEFORE = re.compile(
    r"(?i)(?:\be\.?\s?g\.?|\bex\.?|\bexemplo|\bejemplo|\bp\.\s?ej\.?|\bnapr\.?|\bnapr[ií]klad"
    r"|\bmis\.?|\bmisal(?:nya)?|\bcontoh(?:nya)?|\blike|\bsuch\s+as|\bsepert[iy]|जैसे)"
    r"[\s:,(\"'`*_]*$"
)
# Words that stand before a user name, not a web site: "Postado por olimpo.digital".
_USER_BEFORE = re.compile(r"(?i)(?:\bby|\bpor|\boleh|\bautor|\bpenulis|coment[aá]rio\s*·)\s*$")
# Before a domain that is an address's, written out: "financeiro (arroba) vendor.com.br". A
# bare "at" is a preposition ("also at blast-pro.com.br"): only a bracketed one counts.
_AT_WORD_BEFORE = re.compile(
    r"(?i)(?:[\[(<{]\s*(?:at|arroba|zavin[aá][cč])\s*[\])}>]|\barroba|zavin[aá][cč]|@)\s*$"
)
_EXAMPLE_DOMAINS = frozenset(
    {
        "example.com", "example.org", "example.net", "example.edu", "exemplo.com",
        "exemplo.com.br", "ejemplo.com", "ejemplo.es", "ejemplo.mx", "contoh.com", "contoh.id",
        "contoh.co.id", "priklad.sk", "domain.com", "yourdomain.com", "mydomain.com",
        "domena.sk", "test.com", "sample.com",
    }
)  # fmt: skip
# "Example" in the languages pages are written in (Hindi's udaharan in Latin letters too).
_EXAMPLE_LABELS = frozenset(
    {"example", "exemplo", "ejemplo", "contoh", "priklad", "udaharan", "namuna", "sample"}
)
_EXAMPLE_SUFFIXES = frozenset({"test", "example", "invalid", "localhost", "local"})
# The first label of a template's domain: "your" + "brand", "sua" + "empresa", "aapka" + "brand".
_TEMPLATE_LABEL = re.compile(
    r"^(?:your|my|seu|sua|tu|su|vas|vasa|vase|tvoj|tvoja|aapka|apna|nama|namaanda)[-_]?"
    r"(?:brand|marca|empresa|firma|domain|dominio|domena|site|sitio|company|agency|agencia"
    r"|loja|tienda|toko|shop|negocio|bisnis|usaha|business)|^[a-z]*anda$|^namadomain"
)
_LOOK_BEHIND = 24


def read_hosts(raw: str, text: str, page: Page, url: str | None) -> Hosts:
    """The publisher's hosts, the link hosts and the platform's hosts of a document.

    ``raw`` is the document with escapes decoded, ``text`` its readable text; ``url`` where it
    was found (its host is the publisher's).
    """
    written = set(_written_hosts(raw, text, page))
    if url:
        found = _URL_HOST.search(url if "//" in url else f"//{url}")
        if found is not None:
            written.add(found.group(1).lower())
    own: set[str] = set()
    link: set[str] = set()
    platform: set[str] = set()
    for host in sorted(written)[:_MAX_HOSTS]:
        if _is_example(host):
            continue
        if is_link_host(host):
            link.add(host)
        elif not is_shared(host):
            own.add(host)
        elif registered_domain(host) in PLATFORM_DOMAINS:
            platform.add(host)
    return Hosts(own=tuple(sorted(own)), link=tuple(sorted(link)), platform=tuple(sorted(platform)))


def _written_hosts(raw: str, text: str, page: Page) -> Iterator[str]:
    # Hosts written as hosts: with a scheme, "//" or "www.".
    for source in [raw] if not page.is_html else [*page.links, *page.json_ld, text]:
        yield from _hosts_as_written(source, _URL_HOST)
        yield from _hosts_as_written(source, _WWW_HOST)
    prose = text if page.is_html else _CODE.sub(" ", raw)
    yield from _bare_hosts(prose)


def _hosts_as_written(source: str, pattern: re.Pattern[str]) -> Iterator[str]:
    for found in pattern.finditer(source):
        if not _EXAMPLE_BEFORE.search(source, max(0, found.start() - _LOOK_BEHIND), found.start()):
            yield found.group(1).lower().rstrip(".")


def _bare_hosts(text: str) -> Iterator[str]:
    """Hostnames written in prose ("visit bulkzap.io"), not files, versions, code or names."""
    seen: set[str] = set()
    for found in _BARE_HOST.finditer(text):
        start, end = found.span()
        host = found.group(1).lower()
        # "footer.contact.phone" quoted whole is a key in code, not a host in prose.
        if _quoted(text, start, end) or host.startswith("www."):
            continue
        before = text[max(0, start - _LOOK_BEHIND) : start]
        if _EXAMPLE_BEFORE.search(before) or _USER_BEFORE.search(before):
            continue
        if _AT_WORD_BEFORE.search(before):
            continue
        if host in seen:
            continue
        seen.add(host)
        if len(seen) > _MAX_HOSTS:
            return
        parts = host_parts(host)
        if not parts.suffix or not parts.domain:
            continue
        if parts.suffix.rsplit(".", 1)[-1].lower() in _FILE_EXTENSIONS:
            continue
        if _VERSION_LIKE.match(parts.domain):
            continue  # "v1.io"-like version strings and numbers
        yield host


def _quoted(text: str, start: int, end: int) -> bool:
    return start > 0 and end < len(text) and text[start - 1] == text[end] and text[end] in "\"'`"


def _is_example(host: str) -> bool:
    """A documentation or template domain, or a reserved test name: nobody's host."""
    parts = host_parts(host)
    if host.rsplit(".", 1)[-1] in _EXAMPLE_SUFFIXES:
        return True
    if not parts.suffix or not parts.domain:
        return True
    registered = parts.top_domain_under_public_suffix.lower()
    label = parts.domain.lower()
    return (
        registered in _EXAMPLE_DOMAINS
        or label in _EXAMPLE_LABELS
        or _TEMPLATE_LABEL.match(label) is not None
    )


def is_example_domain(domain: str) -> bool:
    """Whether ``domain`` (a host or registrable domain) is a documentation or template one."""
    return _is_example(domain.lower().strip("."))


def company_domains(hosts: Hosts, email_domains: Iterable[str | None]) -> tuple[str, ...]:
    """The document's company keys: registrable domains of its own hosts and e-mail addresses,
    without shared or example ones (a free-mail address links by its full address only)."""
    found = set(hosts.domains) | {d for d in email_domains if d}
    return tuple(sorted(d for d in found if not is_shared(d) and not is_example_domain(d)))
