"""Contacts of the party that speaks in an off-platform document: phones, e-mails, domains.

A vendor's page, README or forum post is read three ways, because contacts hide in each:

* the raw document with JSON escapes and HTML entities decoded: ``href``, ``data-*`` and
  ``placeholder``-free attributes, inline scripts that configure a chat widget, JSON-LD, code
  samples in a README (``client.send("5511987654321@c.us", ...)``);
* the readable text (``html_text.to_text``), where a number or label split over tags is whole;
* the attribute values and JSON-LD the HTML reader collected, for domains (not the scripts,
  which name every CDN and analytics host the page loads).

Phones are only kept when ``phonenumbers`` says they are valid and they are not one of the
reserved fictional ranges or obvious placeholders below. A number written without a country code
is only read when the page itself says which country it is in (``_region``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from urllib.parse import unquote

import phonenumbers

from tasks.evidence.reading.hosts import Hosts, company_domains, is_example_domain, read_hosts
from tasks.evidence.reading.html_text import MAX_INPUT, Page, parse_page
from tasks.evidence.reading.indicators import email_domain, host_parts


@dataclass(frozen=True)
class Contacts:
    phones: tuple[str, ...]  # E.164, sorted, unique
    emails: tuple[str, ...]  # lower-case, sorted
    # Company keys: registrable domains of the publisher's hosts and of its addresses, sorted,
    # shared and example ones excluded.
    domains: tuple[str, ...]
    hosts: Hosts  # the publisher's hosts as written, link hosts, the platform's hosts


def extract_contacts(document: str, url: str | None = None) -> Contacts:
    """Phones, e-mail addresses, domains and hosts in ``document`` (text, Markdown or HTML).

    ``url`` is where the document was found: its host is one of the document's, and its
    country-code top-level domain tells which country local phone numbers belong to.
    """
    page = parse_page(document)
    raw = _decoded(document[:MAX_INPUT])
    text = page.text if page.is_html else raw
    emails = _emails(raw, text)
    hosts = read_hosts(raw, text, page, url)
    domains = company_domains(hosts, map(email_domain, emails))
    return Contacts(
        phones=_phones(raw, text, page, url, domains), emails=emails, domains=domains, hosts=hosts
    )


# --- the raw view -------------------------------------------------------------------------

_PLACEHOLDER_ATTR = re.compile(r"""(?i)\bplaceholder\s*=\s*(?:"[^"]*"|'[^']*')""")
_JSON_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _decoded(raw: str) -> str:
    """The raw document as a reader of its markup and scripts would see the strings in it.

    Form placeholders ("+44 7911 123456", "you@company.com") are blanked first: they show the
    format to type, never the owner's contact.
    """
    if "placeholder" in raw.lower():
        raw = _PLACEHOLDER_ATTR.sub(" ", raw)
    if "\\" in raw:
        raw = _JSON_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), raw).replace("\\/", "/")
    return html.unescape(raw) if "&" in raw else raw


# --- phones ---------------------------------------------------------------------------------

# Ranges reserved for fiction and documentation, as prefixes of E.164 numbers.
_FICTIONAL_PREFIXES = (
    # Ofcom's drama numbers: 0113/0114/0115/0116/0117/0118/0121/0131/0141/0151/0161 496 0xxx,
    # 020 7946 0xxx, 028 9018 0xxx, 029 2018 0xxx, 01632 960xxx, 07700 900xxx, 08081 570xxx,
    # 0909 8790xxx, 03069 990xxx.
    "+441134960",
    "+441144960",
    "+441154960",
    "+441164960",
    "+441174960",
    "+441184960",
    "+441214960",
    "+441314960",
    "+441414960",
    "+441514960",
    "+441614960",
    "+442079460",
    "+442890180",
    "+442920180",
    "+441632960",
    "+447700900",
    "+448081570",
    "+449098790",
    "+443069990",
    # ACMA's numbers for fiction: mobile 0491 570 xxx to 0491 579 xxx, fixed (0x) 5550 xxxx
    # and (0x) 7010 xxxx in each mainland area code.
    "+6149157",
    "+6125550",
    "+6135550",
    "+6175550",
    "+6185550",
    "+6127010",
    "+6137010",
    "+6177010",
    "+6187010",
)
# NANP: 555-0100..0199 is reserved for fiction and the rest of the 555 exchange is directory
# assistance or unassigned, so no +1 NPA-555-xxxx number is anyone's contact; area code 555
# itself is not in service.
_FICTIONAL_PATTERNS = (re.compile(r"\+1\d{3}555\d{4}"), re.compile(r"\+1555\d{7}"))
# The last digits all one digit (+55 11 99999-9999, 0000000000): a filler, not a number.
_REPEATED_TAIL = 7
# A national number that is one strictly rising or falling run (1234567890, 9876543210), or
# holds a rising run of 8 or a falling run of 10 (81234567890), or one digit six times in a
# row, or ends in two triples (911222333). Shorter runs are left alone: real numbers have
# them ("0803 123 4567", "55 8765 4321").
_MIN_RUN = 6
_RISING_RUN = 8
_FALLING_RUN = 10
_FILLER = re.compile(r"(\d)\1{5}")
_TRIPLES = re.compile(r"(\d)\1\1(?!\1)(\d)\2\2$")
# Five zeros in a row ("98765 00000", "0900 000 123") or a subscriber part of two fours
# ("5555-0000"): what people type to fill a sample's subscriber part.
_ZEROS = re.compile(r"0{5}")
_TWO_FOURS = re.compile(r"(\d)\1{3}(?!\1)(\d)\2{3}$")
# A digit group followed by xx, XX, ##, •• or *** is a template ("+62 812-xxxx-xxxx"); one "x"
# and digits is an extension ("+1 212 736 3100 x12"), and two stars close Markdown's bold
# ("**+62 811-2640-3387**").
_PLACEHOLDER_AFTER = re.compile(r"[\s.\-]?(?:[xX#•]{2}|\*{3})")

# A number written with its country code: "+" or "00", then at least 7 digits in phone format.
_SEPARATORS = r"[\s\u00a0().\-/\u2010-\u2015]"
_INTERNATIONAL = re.compile(
    rf"(?<![\w+])(?:\+|00(?=[\s\u00a0]?\(?[1-9]))[\s\u00a0]*\(?[\s\u00a0]*\d"
    rf"(?:{_SEPARATORS}{{0,3}}\d){{6,17}}"
)
# Any digit group long enough to be a phone number, looked at only when a country is known.
_DIGIT_GROUP = re.compile(rf"(?<![\w+])\(?\d(?:{_SEPARATORS}{{0,3}}\d){{6,17}}(?![\w])")
# Numbers in links and code, which phonenumbers' matcher does not read.
_WA_ME = re.compile(r"(?i)(?<![\w.-])wa\.me/(?:c/)?(?:\+|%2B)?(\d{7,15})(?![\d])")
_WA_SEND = re.compile(r"(?i)(?:whatsapp\.com/send/?|whatsapp://send/?)\?([^\s\"'<>]{1,500})")
_WA_ID = re.compile(r"(?<![\d+])(\d{8,15})@(?:c\.us|s\.whatsapp\.net)\b")
_TEL = re.compile(r"(?i)(?<![\w-])(?:tel|callto|sms):(?://)?(?!\s)([+(\d][^\s\"'<>;,?&]{5,40})")
# A quoted phone-like value, and before it a key: "telephone": "...", data-whatsapp="...".
_QUOTED_NUMBER = re.compile(r"""["'](\+?\(?\d[\d\s().\-/]{5,28}\d)["']""")
_KEY_BEFORE = re.compile(r"""([\w-]{1,40})["']?\s*[:=]\s$""")
_WHATSAPP_KEY = re.compile(r"[Ww]hats|(?:^|[-_])[Ww][Aa](?:[-_]|$)|^wa[A-Z]")  # waNumber
_PHONE_KEY = re.compile(
    r"(?i)phone|tel(?:e|$|[-_])|mobile|celular|telefon|telepon|nomor|handphone|^hp$|contact"
    r"|^(?:number|numero|número|msisdn|wa_?id)$"
)
# A key's value in WhatsApp's own format: the country code and number, digits only.
_WHATSAPP_DIGITS = re.compile(r"[1-9]\d{10,14}")
# Mexican mobiles written with the "1" the network dropped in 2019: +52 1 55 ... is +52 55 ...
_MEXICAN_MOBILE = re.compile(r"^(\+?\s*52)[\s.\-]*1(?=[\s.\-]*(?:\d[\s.\-()]*){10}(?!\d))")
# Words before numbers that a page reports, not gives: the numbers scams came from.
_REPORTED_CUE = re.compile(
    r"(?i)\b(?:reported|complaints?\s+about|came\s+from|scam(?:mers?)?|fraudsters?"
    r"|reportad[oa]s|denunciad[oa]s|provienen\s+de|estafa(?:dores)?|golpistas?|dilaporkan"
    r"|penipu(?:an)?|nahl[aá]sen[eé]|podvodn[ií]c?[iy]?)\b|\breport\s+kiye\b"
    # Numbers complained about ("शिकायत में मिले", "शिकायत वाले"), not a page's own complaints
    # desk ("शिकायत के लिए", "शिकायत अधिकारी").
    r"|शिकायत(?:ों|ें)?\s+(?:में|वाले|वाला|वाली|मिली|मिलीं|आई|आईं)|रिपोर्ट\s+किए|ठग|फ़र्ज़ी|फर्जी"
)
# Words before numbers a page shows as samples of the format: "Formát čísel: 0900 123 456".
_SAMPLE_CUE = re.compile(
    r"(?i)(?<!\w)(?:form[aá]t\w*|e\.g\.|for\s+example|por\s+ejemplo|por\s+exemplo|ejemplo"
    r"|exemplo|contoh(?:nya)?|napr(?:\.|[ií]klad))(?!\w)|उदाहरण|जैसे"
)
# A sample cue standing as a short heading or label covers the few lines after it (a fenced
# sample block) too.
_SAMPLE_HEADING = 40
_SAMPLE_LINES = 4
_REPORTED_REACH = 240
_REPORT_END = re.compile(r"\n\s*\n|[.!?।]\s")
# Matching is by digit groups; no page needs more of its text read for local numbers.
_MAX_LOCAL_SCAN = 1_000_000
# Distinct candidate numbers read per view: a page with more is a table of numbers, not contacts.
_MAX_CANDIDATES = 1_000
# A local number must look like one: grouped as phones are written ("(11) 98765-4321",
# "0905 123 456"), or announced by a word such as "tel" or "WhatsApp" just before it. Bare digit
# runs and dotted groups are order numbers, ids and prices far more often, and in dense plans
# (Brazil, Indonesia) almost any of them is a valid number.
_PHONE_GROUPING = re.compile(r"[\s\u00a0()\-/\u2010-\u2015]")
_PHONE_CUE = re.compile(
    r"(?i)(?<![^\W\d_])(?:tel|telp|phone|fone|telefone|tel[eé]fono|celular|cel|whats\s?app|wa|zap|mobile"
    r"|mobil|hp|call|ligue|ll[aá]me(?:nos)?|hubungi|kontak|contato|contacto|contact|kontakt"
    r"|volajte|zavolajte|nomor|n[uú]mero)\b[^\n\d]{0,24}$|[☎📞📱✆]\s*$"
)

# Country-code domains that are sold worldwide as vanity names, so say nothing of a country
# (.io, .ai, .co, .me, .tv ...). A second-level suffix under them (.com.co) is a real country.
_VANITY_CCTLDS = frozenset(
    {
        "ac", "ai", "am", "bz", "cc", "cx", "co", "fm", "ga", "gd", "gg", "gl", "im", "io",
        "la", "ly", "me", "ms", "nu", "sh", "so", "st", "sx", "tk", "to", "tv", "vc", "ws",
    }
)  # fmt: skip
# Languages spoken as a first language in essentially one country (html lang="sk").
_LANGUAGE_REGION = {
    "sk": "SK", "cs": "CZ", "id": "ID", "pl": "PL", "hu": "HU", "uk": "UA", "ja": "JP",
    "ko": "KR", "th": "TH", "vi": "VN", "tr": "TR", "he": "IL", "bg": "BG", "hr": "HR",
    "sl": "SI", "lt": "LT", "lv": "LV", "et": "EE", "da": "DK", "fi": "FI", "is": "IS",
}  # fmt: skip
_LANGUAGE_SAMPLE = 20_000
_MIN_LANGUAGE_HITS = 2
_LANGUAGE_WORD = re.compile(r"[^\W\d_]+")
_SLOVAK_WORDS = frozenset(
    {
        "pre", "ako", "alebo", "sme", "som", "čo", "nie", "cez", "ktoré", "ktorý", "ktorá",
        "tiež", "veľmi", "môžete", "správ", "správy", "sú", "ďakujeme", "neobmedzene",
    }
)  # fmt: skip
_INDONESIAN_WORDS = frozenset(
    {
        "yang", "dengan", "untuk", "tidak", "bisa", "anda", "kami", "sudah", "hubungi",
        "silakan", "kirim", "pesan", "harga", "gratis", "dan", "juga", "ini", "itu", "akan",
    }
)  # fmt: skip
_PORTUGUESE_WORDS = frozenset(
    {
        "não", "você", "também", "são", "então", "uma", "pelo", "pela", "com", "nossa",
        "nosso", "seus", "suas", "mensagens", "números", "está", "vocês", "nós",
    }
)  # fmt: skip
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_MIN_DEVANAGARI = 20
_CURRENCIES = tuple(
    (region, re.compile(pattern))
    for region, pattern in (
        ("BR", r"R\$"),
        ("MX", r"\bMXN\b|pesos\s+mexicanos"),
        ("CO", r"\bCOP\b"),
        ("CL", r"\bCLP\b"),
        ("AR", r"\bARS\b"),
        ("PE", r"\bPEN\b|\bS/\s?\d"),
        ("IN", r"₹|\bINR\b|\bRs\.?\s?\d"),
        ("ID", r"\bRp\.?\s?\d|\bIDR\b"),
        ("KE", r"\bKSh|\bKES\b"),
        ("NG", r"₦|\bNGN\b"),
        ("GH", r"GH₵|\bGHS\b"),
        ("GB", r"£|\bGBP\b"),
        ("PH", r"₱"),
    )
)
_LOCALE = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z]{2}))?\b", re.IGNORECASE)


def _phones(
    raw: str, text: str, page: Page, url: str | None, domains: tuple[str, ...]
) -> tuple[str, ...]:
    international: set[str] = set()
    local_values: list[str] = []
    for value, has_code in _numbers_in_links(raw):
        if has_code:
            international.update(_parse_all("+" + value.lstrip("+"), None))
        else:
            local_values.append(value)
    for view in {raw, text}:
        international.update(_international(view))
    international = {number for number in international if not never_a_contact(number)}
    region = _region(url, international, domains, page)
    found = set(international)
    if region is not None:
        local = set(_local(text[:_MAX_LOCAL_SCAN], region))
        for value in local_values:
            local.update(_parse_all(value, region))
        found |= {number for number in local if not never_a_contact(number)}
    return tuple(sorted(found - _reported(text, region)))


def _reported(text: str, region: str | None) -> set[str]:
    """Numbers a page reports as someone else's: "Recent messages came from +1 646 380 2291",
    "Números denunciados nesta semana: (21) 97042-1836", "शिकायत वाले नंबर: +92 315 4408217";
    or shows as a sample of the format to type ("Formát čísel: 0900 123 456"). A warning quotes
    the scammers' numbers and a manual an example; neither is its publisher's contact."""
    windows: list[str] = []
    for cue in _REPORTED_CUE.finditer(text[:_MAX_LOCAL_SCAN]):
        # To the end of the sentence or the list the cue opens.
        reach = text[cue.end() : cue.end() + _REPORTED_REACH]
        windows.append(_REPORT_END.split(reach, maxsplit=1)[0])
    for cue in _SAMPLE_CUE.finditer(text[:_MAX_LOCAL_SCAN]):
        lines = text[cue.end() : cue.end() + _REPORTED_REACH].split("\n", _SAMPLE_LINES)
        line_start = text.rfind("\n", 0, cue.start()) + 1
        heading = cue.end() - line_start + len(lines[0]) <= _SAMPLE_HEADING
        windows.append("\n".join(lines[:_SAMPLE_LINES]) if heading else lines[0])
    numbers: set[str] = set()
    for window in windows:
        numbers.update(_international(window))
        if region is not None:
            numbers.update(_local(window, region))
    return numbers


def _numbers_in_links(raw: str) -> Iterator[tuple[str, bool]]:
    """Numbers in WhatsApp links, tel: links, WhatsApp ids and phone-named keys, and whether
    each carries its country code (WhatsApp numbers always do, without the "+")."""
    lowered = raw.lower()
    if "wa.me/" in lowered:
        for found in _WA_ME.finditer(raw):
            yield found.group(1), True
    if "whatsapp" in lowered:
        yield from _whatsapp_send_numbers(raw)
    if "@c.us" in lowered or "@s.whatsapp.net" in lowered:
        for found in _WA_ID.finditer(raw):
            yield found.group(1), True
    if "tel:" in lowered or "callto:" in lowered or "sms:" in lowered:
        for found in _TEL.finditer(raw):
            yield _with_code(unquote(found.group(1)))
    for found in _QUOTED_NUMBER.finditer(raw):
        before = raw[max(0, found.start() - 48) : found.start()].rstrip()
        if not before.endswith((":", "=")):
            continue  # a value, not a key's value: viewBox="0 0 24 24" passes, then fails
        key = _KEY_BEFORE.search(before + " ")
        if key is None:
            continue
        name = key.group(1)
        if _WHATSAPP_KEY.search(name):
            yield found.group(1), True
        elif _PHONE_KEY.search(name):
            value = found.group(1)
            yield (value, True) if _WHATSAPP_DIGITS.fullmatch(value) else _with_code(value)


def _whatsapp_send_numbers(raw: str) -> Iterator[tuple[str, bool]]:
    for found in _WA_SEND.finditer(raw):
        for parameter in re.split(r"[&;]", found.group(1)):
            name, _, value = parameter.partition("=")
            if name.lower() == "phone" and value:
                number = unquote(value).strip()
                if number.startswith(("+", "00")):
                    yield _with_code(number)
                else:
                    # WhatsApp wants the country code without "+"; a leading 0 is a local
                    # number written by mistake, which still says whose it is.
                    yield number, not number.startswith("0")


def _with_code(value: str) -> tuple[str, bool]:
    value = value.strip()
    if value.startswith("00"):
        return "+" + value[2:], True
    return value, value.startswith("+")


def _international(view: str) -> Iterator[str]:
    """Numbers written with their country code, each read in a window of its own."""

    def windows() -> Iterator[str]:
        for found in _INTERNATIONAL.finditer(view):
            if _PLACEHOLDER_AFTER.match(view, found.end()):
                continue
            body = found.group(0)
            if body.startswith("00"):
                body = "+" + body[2:]
            yield body + view[found.end() : found.end() + 2]

    return _read_windows(windows(), None)


def _local(text: str, region: str) -> Iterator[str]:
    """Numbers as written in ``region``, in text only."""
    # International numbers are read already; their tails ("7911 123456") are not local ones.
    text = _INTERNATIONAL.sub(" ", text)

    def windows() -> Iterator[str]:
        for found in _DIGIT_GROUP.finditer(text):
            if _PLACEHOLDER_AFTER.match(text, found.end()):
                continue
            start, end = found.span()
            if not _PHONE_GROUPING.search(found.group(0).strip()):
                line_start = text.rfind("\n", max(0, start - 40), start) + 1
                if not _PHONE_CUE.search(text, max(line_start, start - 40), start):
                    continue
            yield found.group(0) + text[end : end + 2]

    return _read_windows(windows(), region)


def _read_windows(windows: Iterator[str], region: str | None) -> Iterator[str]:
    """Each distinct candidate window parsed once, up to ``_MAX_CANDIDATES`` of them."""
    seen: set[str] = set()
    for window in windows:
        if window in seen:
            continue
        seen.add(window)
        if len(seen) > _MAX_CANDIDATES:
            return
        yield from _parse_all(window, region)


def _parse_all(window: str, region: str | None) -> Iterator[str]:
    """Every valid number in ``window`` as E.164, by phonenumbers' matcher."""
    window = _MEXICAN_MOBILE.sub(r"\1 ", window)
    try:
        matches = list(
            phonenumbers.PhoneNumberMatcher(
                window, region, leniency=phonenumbers.Leniency.VALID, max_tries=20
            )
        )
    except Exception:  # phonenumbers must never fail the whole document
        return
    for match in matches:
        if phonenumbers.is_valid_number(match.number):
            yield phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)


def never_a_contact(e164: str) -> bool:
    """Whether a valid-looking number is a fictional range or a placeholder."""
    if e164.startswith(_FICTIONAL_PREFIXES):
        return True
    if any(pattern.fullmatch(e164) for pattern in _FICTIONAL_PATTERNS):
        return True
    national = _national(e164)
    if len(set(national[-_REPEATED_TAIL:])) == 1 or _FILLER.search(national):
        return True
    # 0812-3456-7890, (11) 91234-5678: a run typed to show the format, after a real prefix;
    # 0911 222 333: the subscriber part in repeated threes.
    return (
        _is_run(national)
        or _is_run(e164[1:])
        or _longest_run(national, 1) >= _RISING_RUN
        or _longest_run(national, 9) >= _FALLING_RUN
        or _TRIPLES.search(national) is not None
        or _ZEROS.search(national) is not None
        or _TWO_FOURS.search(national) is not None
    )


@lru_cache(maxsize=4096)
def _national(e164: str) -> str:
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return e164.lstrip("+")


def _longest_run(digits: str, step: int) -> int:
    """The longest stretch of ``digits`` where each digit is the last plus ``step`` (mod 10)."""
    longest = current = 1
    for a, b in pairwise(digits):
        current = current + 1 if (int(b) - int(a)) % 10 == step else 1
        longest = max(longest, current)
    return longest if digits else 0


def _is_run(digits: str) -> bool:
    """One strictly rising or falling run of digits, 9 wrapping to 0 (1234567890)."""
    if len(digits) < _MIN_RUN:
        return False
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(digits)}
    return steps in ({1}, {9})


def _region(
    url: str | None, international: set[str], domains: tuple[str, ...], page: Page
) -> str | None:
    """The country whose local numbers this page writes, from the first evidence of:

    1. the country-code domain of the URL it was found at;
    2. the one country of the country-code domains it names as its own (obchod@firma.sk,
       www.disparo.com.br), when it has no URL;
    3. a page language spoken in essentially one country, or a language tag with a country;
       without a tag, text that is clearly Slovak, Indonesian, Brazilian Portuguese or in
       Devanagari (India);
    4. the one country whose currency it prices in;
    5. the one calling code its international numbers share (a Slovak page quoting a British
       number still writes Slovak local numbers, so this comes last).
    """
    region = _cctld_region(url)
    if region is not None:
        return region
    if not url:
        countries = {_cctld_region(domain) for domain in domains} - {None}
        if len(countries) == 1:
            return countries.pop()
    region = (
        _language_region(page)
        or _text_language_region(page.text)
        or _currency_region(page.text[:_LANGUAGE_SAMPLE])
    )
    if region is not None:
        return region
    codes = {_calling_code(number) for number in international} - {0}
    if len(codes) == 1:
        main = phonenumbers.region_code_for_country_code(codes.pop())
        if main not in {"ZZ", "001"}:
            return str(main)
    return None


def _currency_region(text: str) -> str | None:
    """The one country whose currency the page prices in (R$, MXN, COP, ₹, Rp, KSh, ₦, £)."""
    found = {region for region, pattern in _CURRENCIES if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


def _calling_code(e164: str) -> int:
    try:
        return phonenumbers.parse(e164, None).country_code or 0
    except phonenumbers.NumberParseException:
        return 0


def _cctld_region(url: str | None) -> str | None:
    if not url:
        return None
    suffix = host_parts(url).suffix.lower()
    labels = suffix.split(".") if suffix else []
    if not labels or len(labels[-1]) != 2:
        return None
    if len(labels) == 1 and labels[0] in _VANITY_CCTLDS:
        return None
    region = "GB" if labels[-1] == "uk" else labels[-1].upper()
    return region if phonenumbers.country_code_for_region(region) else None


def _text_language_region(text: str) -> str | None:
    """SK or ID when the text is plainly Slovak or Indonesian, the project's two languages that
    are spoken in one country; IN for Devanagari; BR for Portuguese, which the pages this
    project reads write in Brazil far more than anywhere else. Spanish and English say nothing.
    """
    sample = text[:_LANGUAGE_SAMPLE].lower()
    if len(_DEVANAGARI.findall(sample)) >= _MIN_DEVANAGARI:
        return "IN"
    words = set(_LANGUAGE_WORD.findall(sample))
    if len(words & _PORTUGUESE_WORDS) >= _MIN_LANGUAGE_HITS + 1:
        return "BR"
    # Slovak letters or words that Czech does not have, and none of Czech's own letters.
    slovak = sum(sample.count(letter) for letter in "ľĺŕôä") + len(words & _SLOVAK_WORDS)
    if slovak >= _MIN_LANGUAGE_HITS and not any(letter in sample for letter in "ěřů"):
        return "SK"
    # Malay shares much of this vocabulary; a Malaysian number read as Indonesian is almost
    # always invalid there (different mobile prefixes), so the error costs little.
    if len(words & _INDONESIAN_WORDS) >= _MIN_LANGUAGE_HITS + 2:
        return "ID"
    return None


def _language_region(page: Page) -> str | None:
    declared = [page.lang or ""]
    declared += [value for key, value in page.metas if key in {"og:locale", "content-language"}]
    for locale in declared:
        found = _LOCALE.match(locale.strip())
        if found is None:
            continue
        language, country = found.group(1).lower(), (found.group(2) or "").upper()
        if country and phonenumbers.country_code_for_region(country):
            return country
        if language in _LANGUAGE_REGION:
            return _LANGUAGE_REGION[language]
    return None


# --- e-mail addresses -----------------------------------------------------------------------

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(
    rf"(?<![\w.%+\-])([a-z0-9][a-z0-9._%+\-]{{0,63}})@((?:{_LABEL}\.)+[a-z]{{2,24}})"
    r"(?![\w\-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_MAILTO = re.compile(r"(?i)mailto:([^\s\"'<>]{3,320})")
# Cloudflare's e-mail protection: the address XOR-ed with the first byte, in hex.
_CLOUDFLARE = re.compile(r"(?i)(?:data-cfemail=[\"']?|/cdn-cgi/l/email-protection#)([0-9a-f]{8,})")
# Obfuscated addresses: "sales [at] bulkzap [dot] io", "contato(arroba)x.com.br",
# "info (zavináč) firma (bodka) sk", "kontak [at] x [titik] co.id".
_AT_WORD = r"(?:at|arroba|zavin[aá][cč])"
_DOT_WORD = r"(?:dot|punto|ponto|bodka|te[cč]ka|titik|point)"
_LOCAL_PART = r"[a-z0-9](?:[a-z0-9._+\-]{0,62}[a-z0-9])?"
_BRACKETED_AT = rf"\s*[\[({{<]\s*{_AT_WORD}\s*[\])}}>]\s*"
_BRACKETED_DOT = rf"\s*[\[({{<]\s*{_DOT_WORD}\s*[\])}}>]\s*"
_BRACKETED = re.compile(
    rf"(?<![\w.+\-])({_LOCAL_PART})(?:{_BRACKETED_AT}|@)"
    rf"({_LABEL}(?:(?:{_BRACKETED_DOT}|\.){_LABEL})+)(?![\w\-])",
    re.IGNORECASE,
)
_SPELLED = re.compile(
    rf"(?<![\w.+\-])({_LOCAL_PART})\s+({_AT_WORD})\s+({_LABEL}(?:(?:\s+{_DOT_WORD}\s+|\.){_LABEL})+)"
    r"(?![\w\-])",
    re.IGNORECASE,
)
_AT_SIGN = re.compile("@")
_AT_TOKEN = re.compile(rf"@|(?<![^\W\d_]){_AT_WORD}(?![^\W\d_])", re.IGNORECASE)
_SPELLED_DOT = re.compile(rf"\s+{_DOT_WORD}\s+", re.IGNORECASE)
_ANY_DOT = re.compile(rf"{_BRACKETED_DOT}|\s+{_DOT_WORD}\s+", re.IGNORECASE)
# A spelled address ("sales at bulkzap dot io") counts only after a word that announces one.
_EMAIL_CUE = re.compile(
    r"(?i)e-?mail|correo|contat|contact|kontak|surel|write|escrev|escr[ií]b|nap[ií][sš]"
)
_WORD_BREAK = re.compile(r"[\s\"'<>(=,;]")
_NOT_LOCAL_PARTS = frozenset({"us", "me", "you", "him", "her", "them", "it", "home"})

# Addresses that are examples, templates or machine identifiers, never anyone's contact.
_PLACEHOLDER_DOMAINS = frozenset(
    {
        "example.com", "example.org", "example.net", "example.edu", "domain.com",
        "yourdomain.com", "your-domain.com", "yoursite.com", "yourcompany.com",
        "yourwebsite.com", "mydomain.com", "email.com", "test.com", "sample.com",
        "company.com", "website.com", "site.com", "dominio.com", "seudominio.com",
        "seudominio.com.br", "suaempresa.com.br", "tudominio.com", "tuempresa.com",
        "empresa.com", "domena.sk", "namadomain.com", "domainanda.com",
    }
)  # fmt: skip
_PLACEHOLDER_LABEL_START = ("your", "seu", "sua", "tu", "tvoj", "vas")
_PLACEHOLDER_LOCAL_PARTS = frozenset(
    {
        "you", "yourname", "your.name", "your_name", "your-name", "youremail", "your.email",
        "your-email", "name.surname", "firstname.lastname", "first.last", "john.doe",
        "jane.doe", "johndoe", "janedoe", "someone", "somebody", "username", "user.name",
        "seunome", "seu.nome", "seuemail", "tunombre", "tu.nombre", "tuemail", "namaanda",
        "email.anda", "vase.meno", "vasemeno", "meno.priezvisko",
    }
)  # fmt: skip
# Not contacts: bounces and no-reply senders.
_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|donotreply|mailer-daemon|postmaster)")
# WhatsApp ids (5511987654321@c.us, group@g.us) look like addresses and are not.
_WHATSAPP_ID_DOMAINS = frozenset({"c.us", "g.us", "s.whatsapp.net", "g.whatsapp.net", "lid"})
# 16+ hex digits: a tracking or error-reporting id (Sentry DSNs, Wix), not a mailbox.
_MACHINE_ID = re.compile(r"^[0-9a-f]{16,}$")


def _emails(raw: str, text: str) -> tuple[str, ...]:
    candidates: list[str] = []
    for view in {raw, text}:
        candidates.extend(_plain_emails(view))
    for found in _MAILTO.finditer(raw) if "mailto:" in raw.lower() else ():
        target = unquote(found.group(1)).split("?", 1)[0]
        candidates.extend(part.strip() for part in target.split(","))
    candidates.extend(_cloudflare_emails(raw))
    candidates.extend(_obfuscated_emails(text))
    emails = set()
    for candidate in candidates:
        email = _clean_email(candidate)
        if email is not None:
            emails.add(email)
    return tuple(sorted(emails))


def _windows(view: str, anchor: re.Pattern[str], before: int, after: int) -> Iterator[str]:
    """The parts of ``view`` around each match of ``anchor``, overlapping ones merged: the
    address patterns then run on a few hundred characters per address, not the whole page."""
    start = end = -1
    for found in anchor.finditer(view):
        low, high = max(0, found.start() - before), found.end() + after
        if start >= 0 and low <= end:
            end = high
            continue
        if start >= 0:
            yield view[start:end]
        start, end = low, high
    if start >= 0:
        yield view[start:end]


def _plain_emails(text: str) -> Iterator[str]:
    for view in _windows(text, _AT_SIGN, 320, 320):
        yield from _plain_emails_in(view)


def _plain_emails_in(view: str) -> Iterator[str]:
    for found in _EMAIL.finditer(view):
        start, end = found.span()
        # user@host in a URL (https://key@sentry.io/1) is a credential, not an address.
        if "//" in _WORD_BREAK.split(view[max(0, start - 300) : start])[-1]:
            continue
        # git@github.com:owner/repo is an SSH remote.
        if view.startswith(":", end) and end + 1 < len(view) and view[end + 1] not in " \n":
            continue
        yield found.group(0)


def _cloudflare_emails(raw: str) -> Iterator[str]:
    if "cfemail" not in raw and "email-protection" not in raw:
        return
    for found in _CLOUDFLARE.finditer(raw):
        encoded = bytes.fromhex(found.group(1)[: len(found.group(1)) // 2 * 2])
        key = encoded[0]
        yield bytes(b ^ key for b in encoded[1:]).decode("utf-8", "replace")


def _obfuscated_emails(text: str) -> Iterator[str]:
    for view in _windows(text, _AT_TOKEN, 120, 200):
        yield from _obfuscated_emails_in(view)


def _obfuscated_emails_in(text: str) -> Iterator[str]:
    for found in _BRACKETED.finditer(text):
        if "@" in found.group(0) and not _ANY_DOT.search(found.group(2)):
            continue  # an ordinary address, read by _plain_emails
        yield f"{found.group(1)}@{_ANY_DOT.sub('.', found.group(2))}"
    for found in _SPELLED.finditer(text):
        local, at_word, domain = found.groups()
        if local.lower() in _NOT_LOCAL_PARTS or not _SPELLED_DOT.search(domain):
            continue  # "meet us at bulkzap.io" is a web address, not a mailbox
        shouted = at_word.isupper() and all(d.isupper() for d in _dot_words(domain))
        line_start = text.rfind("\n", max(0, found.start() - 48), found.start()) + 1
        before = text[max(line_start, found.start() - 48) : found.start()]
        if shouted or _EMAIL_CUE.search(before):
            yield f"{local}@{_SPELLED_DOT.sub('.', domain)}"


def _dot_words(domain: str) -> list[str]:
    return [word.strip() for word in _SPELLED_DOT.findall(domain)]


def _clean_email(candidate: str) -> str | None:
    email = candidate.strip().strip(".").lower()
    found = _EMAIL.fullmatch(email)
    if found is None:
        return None
    local, domain = found.group(1), found.group(2)
    if domain in _WHATSAPP_ID_DOMAINS:
        return None
    if ".." in local or local.startswith(".") or local.endswith("."):
        return None
    if _is_placeholder_email(local, domain) or _NO_REPLY.match(local) or _MACHINE_ID.match(local):
        return None
    return email


def _is_placeholder_email(local: str, domain: str) -> bool:
    registered = email_domain(f"{local}@{domain}")
    if registered is None:
        return True  # no real public suffix: "logo@2x.png", "user@host.local"
    label = registered.split(".", 1)[0]
    if registered in _PLACEHOLDER_DOMAINS or is_example_domain(registered):
        return True
    # yourdomain.co.uk, seudominio.com.br, your-company.io: a template's domain.
    template = label.startswith(_PLACEHOLDER_LABEL_START) and any(
        word in label for word in ("domain", "dominio", "company", "empresa", "site", "email")
    )
    return template or local in _PLACEHOLDER_LOCAL_PARTS
