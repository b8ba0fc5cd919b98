"""Contacts in off-platform documents, and the HTML reader they are found with."""

from __future__ import annotations

import time

import pytest

from tasks.evidence.reading.contacts import Contacts, extract_contacts, never_a_contact
from tasks.evidence.reading.hosts import Hosts
from tasks.evidence.reading.html_text import MAX_TEXT, looks_like_html, parse_page, to_text


def phones(document: str, url: str | None = None) -> tuple[str, ...]:
    return extract_contacts(document, url).phones


def emails(document: str, url: str | None = None) -> tuple[str, ...]:
    return extract_contacts(document, url).emails


def domains(document: str, url: str | None = None) -> tuple[str, ...]:
    return extract_contacts(document, url).domains


# --- html_text ------------------------------------------------------------------------------


def test_to_text_keeps_what_a_reader_sees() -> None:
    page = """<!DOCTYPE html><html><head><title>BulkZap</title>
    <style>body { color: red }</style><script>var phone = "x";</script></head>
    <body><nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
    <noscript>Enable JavaScript</noscript><template><p>hidden row</p></template>
    <h1>Send   bulk
    messages</h1><p>Fish &amp; chips&nbsp;&#8212; &lt;fast&gt;<br>second line</p>
    <table><tr><td>a</td><td>b</td></tr></table></body></html>"""
    assert to_text(page).split("\n") == [
        "Home Pricing",
        "Send bulk messages",
        "Fish & chips \u2014 <fast>",
        "second line",
        "a b",
    ]


def test_pre_keeps_its_lines() -> None:
    assert to_text("<html><body><pre>line one\nline two</pre></body></html>") == (
        "line one\nline two"
    )


def test_plain_text_and_markdown_come_back_unchanged() -> None:
    readme = '<p align="center"><img src="logo.png"></p>\n\n# BulkZap\n\n- fast\n- cheap\n'
    for document in ("Just text, with a < b and c > d.", readme, "# Title\n\nBody"):
        assert not looks_like_html(document)
        assert to_text(document) == document


@pytest.mark.parametrize(
    "document",
    [
        "<!doctype html><title>x</title>",
        "<html lang='en'><body>x</body></html>",
        "<p>A forum post</p><p>with paragraphs</p>",
        "  <div class='post'>Hello</div>",
    ],
)
def test_looks_like_html(document: str) -> None:
    assert looks_like_html(document)


def test_head_facts_are_collected() -> None:
    page = parse_page(
        '<html lang="pt-BR"><head><title>Disparo &amp; Cia</title>'
        '<meta property="og:site_name" content="Disparo">'
        '<script type="application/ld+json">{"@type": "Organization"}</script></head>'
        '<body><header><time datetime="2021-03-12">12/03</time></header>'
        '<a href="https://disparo.com.br/x">x</a><svg><title>icon</title></svg></body></html>'
    )
    assert page.title == "Disparo & Cia"
    assert page.lang == "pt-BR"
    assert ("og:site_name", "Disparo") in page.metas
    assert page.json_ld == ('{"@type": "Organization"}',)
    assert [(t.value, t.in_byline) for t in page.times] == [("2021-03-12", True)]
    assert "https://disparo.com.br/x" in page.links


def test_html_bomb_of_nested_divs_is_read_in_linear_time() -> None:
    bomb = "<div>" * 100_000 + "Call +44 7911 123456" + "</div>" * 100_000
    started = time.perf_counter()
    assert to_text(bomb) == "Call +44 7911 123456"
    assert extract_contacts(bomb).phones == ("+447911123456",)
    # Generous: it takes well under a second; a quadratic reader would take minutes.
    assert time.perf_counter() - started < 20


@pytest.mark.parametrize(
    "hostile",
    [
        "<html>" + "<a" * 50_000,
        "<html>" + "<!--" * 50_000,
        "<html>" + "<!" * 50_000,
        "<html>" + "<?" * 50_000,
        "<html>" + "</a" * 50_000,
        "<html>" + '<a href="x>' * 50_000,
        "<html><a " + '="' * 50_000 + ">",
        "<html><script>" + "</scrip" * 50_000,
        "<html><p>" + "&#" * 50_000,
        "<html>" + "<div><span><p><li>" * 25_000,
        "<html><title>" + "x" * 100_000,
    ],
)
def test_hostile_markup_never_raises_and_stays_fast(hostile: str) -> None:
    started = time.perf_counter()
    text = to_text(hostile)
    extract_contacts(hostile, "https://x.sk")
    assert len(text) <= MAX_TEXT
    assert time.perf_counter() - started < 20


def test_text_is_capped() -> None:
    text = to_text("<html><body><p>" + "word " * 500_000 + "</p></body></html>")
    assert len(text) <= MAX_TEXT


def test_unterminated_constructs_behave_like_a_browser() -> None:
    assert to_text("<html><body>visible<!-- hidden") == "visible"
    assert to_text("<html><body>visible<script>hidden") == "visible"
    assert to_text("<html><body>a < b and c<d") == "a < b and c<d"


# --- phones: international formats ----------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Call +44 7911 123456 today", ("+447911123456",)),
        ("Fale com +55 (11) 98765-4321", ("+5511987654321",)),
        ("Fale com (+55) 11 98765-4321", ("+5511987654321",)),
        ("Tel.: 0044 7911 123456", ("+447911123456",)),
        ("Volajte +421 917 123 456 alebo +421 2 5443 1234", ("+421254431234", "+421917123456")),
        ("+44 7911 123456 / +55 11 98765-4321", ("+447911123456", "+5511987654321")),
        ("+44\u00a07911\u00a0123456", ("+447911123456",)),
    ],
)
def test_international_numbers(document: str, expected: tuple[str, ...]) -> None:
    assert phones(document) == expected


@pytest.mark.parametrize(
    "document",
    [
        '<a href="https://wa.me/447911123456">WhatsApp</a>',
        '<a href="https://wa.me/+447911123456?text=Hi">WhatsApp</a>',
        "wa.me/447911123456",
        "[Chat with us](https://wa.me/447911123456)",
        '<a href="https://api.whatsapp.com/send?phone=447911123456&amp;text=Ol%C3%A1">x</a>',
        '<a href="https://api.whatsapp.com/send/?text=hi&phone=%2B447911123456">x</a>',
        '<a href="whatsapp://send?phone=447911123456">x</a>',
        "https://web.whatsapp.com/send?phone=447911123456",
        '<a href="tel:+447911123456">Call</a>',
        '<a href="tel:00447911123456">Call</a>',
        '<button data-whatsapp="447911123456">Chat</button>',
        '<div class="wa" data-wa-number="447911123456"></div>',
        '{"@type": "Organization", "telephone": "+44 7911 123456"}',
        'client.sendMessage("447911123456@c.us", "Hello")',
        'await sock.sendMessage("447911123456@s.whatsapp.net", { text: "hi" })',
        '<script>var url = "https:\\/\\/wa.me\\/447911123456";</script>',
        "<html><body>Call <b>+44</b> <span>7911</span> 123456</body></html>",
    ],
)
def test_numbers_in_links_attributes_and_code(document: str) -> None:
    assert phones(document) == ("+447911123456",)


def test_whatsapp_ids_are_neither_addresses_nor_domains() -> None:
    found = extract_contacts('send("447911123456@c.us"); group("12036304@g.us")')
    assert found == Contacts(
        phones=("+447911123456",), emails=(), domains=(), hosts=Hosts(own=(), link=())
    )


# --- phones: local formats need a country ---------------------------------------------------


@pytest.mark.parametrize(
    ("document", "url", "expected"),
    [
        ("Ligue (11) 98765-4321", "https://disparo.com.br/contato", "+5511987654321"),
        ("Ligue (11) 98765-4321", "https://disparo.br", "+5511987654321"),
        ("Volajte 0905 123 456", "https://www.firma.sk/kontakt", "+421905123456"),
        ("Hubungi 0813-8726-4410", "https://kirim.co.id", "+6281387264410"),
        ("Hubungi 0813-8726-4410", "https://kirim.id", "+6281387264410"),
        ("Llame al 612 874 305", "https://envios.es", "+34612874305"),
        ("Llámanos: 55 8765 4321", "https://envios.com.mx", "+525587654321"),
        ("Ligue 912 874 305", "https://envios.pt", "+351912874305"),
        ("Call 07911 123456", "https://bulk.co.uk", "+447911123456"),
        ('<a href="tel:0905123456">Volajte</a>', "https://firma.sk", "+421905123456"),
        ("WhatsApp: 11987654321", "https://disparo.com.br", "+5511987654321"),
    ],
)
def test_local_numbers_with_the_country_from_the_domain(
    document: str, url: str, expected: str
) -> None:
    assert phones(document, url) == (expected,)


def test_local_numbers_with_the_country_from_a_calling_code_on_the_page() -> None:
    document = "Vendas: +55 11 94027-3618 | Suporte: (11) 98765-4321"
    assert phones(document) == ("+5511940273618", "+5511987654321")


def test_local_numbers_with_the_country_from_the_page_language() -> None:
    assert phones('<html lang="sk"><body>Volajte 0905 123 456</body></html>') == ("+421905123456",)
    assert phones('<html lang="pt-BR"><body>Ligue (11) 98765-4321</body></html>') == (
        "+5511987654321",
    )


def test_local_numbers_with_the_country_of_the_documents_own_domain() -> None:
    # No URL: the page names itself (an address, a www. host) under a country-code domain.
    assert phones("Volajte 0905 123 456 alebo píšte na obchod@firma.sk") == ("+421905123456",)
    assert phones("📞 Comercial: (11) 98765-4321\nwww.disparo.com.br") == ("+5511987654321",)
    # Two countries among its domains say nothing.
    assert phones("Ligue (11) 98765-4321 · disparo.com.br · envios.es") == ()


def test_local_numbers_in_plainly_slovak_or_indonesian_text() -> None:
    assert phones("Predám licenciu, neobmedzene správ. Kontakt: tel. 0944 123 456") == (
        "+421944123456",
    )
    indonesian = "Kami bisa kirim pesan untuk anda dengan harga murah. Hubungi 0813-8726-4410"
    assert phones(indonesian) == ("+6281387264410",)
    # Czech is not Slovak, English says nothing of a country.
    assert phones("Prodám licenci, zpráv neomezeně, ceny pro vás. Volejte 0944 123 456") == ()
    assert phones("We can send messages for you. Call 0813-8726-4410") == ()


@pytest.mark.parametrize(
    ("document", "url"),
    [
        ("Ligue (11) 98765-4321", None),  # no country anywhere
        ("Llame al 612 874 305", "https://envios.io"),  # .io is sold worldwide
        ('<html lang="es"><body>Llame al 612 874 305</body></html>', None),  # es: many countries
        ('<html lang="pt"><body>Ligue (11) 98765-4321</body></html>', None),
        ("Ligue (11) 98765-4321, +44 7911 123456 ou +421 917 123 456", None),  # ambiguous
    ],
)
def test_local_numbers_without_a_country_are_left_out(document: str, url: str | None) -> None:
    assert all(not number.startswith("+55") for number in phones(document, url))
    assert "+34612874305" not in phones(document, url)


def test_a_cue_word_must_stand_alone() -> None:
    # "wa" ends "Ottawa", "hp" ends "php": neither announces a phone number.
    assert phones("Ottawa 11987654321", "https://disparo.com.br") == ()
    assert phones("Fone 11987654321", "https://disparo.com.br") == ("+5511987654321",)


def test_an_extension_is_not_a_placeholder() -> None:
    assert phones("Call +44 20 7123 4567 x12") == ("+442071234567",)


def test_bare_digit_runs_are_ids_not_phones() -> None:
    # In Brazil almost any 10 or 11 digits are a valid number; order ids must not become phones.
    document = "Pedido 11987654321, nota 21987654321, CNPJ 12.345.678/0001-90"
    assert phones(document, "https://disparo.com.br") == ()


def test_the_tail_of_an_international_number_is_not_read_again_as_a_local_one() -> None:
    assert phones("Call +44 7911 123456", "https://disparo.com.br") == ("+447911123456",)


# --- phones: never contacts -----------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+12125550123",  # NANP 555-01xx, reserved for fiction
        "+12025550143",
        "+12125551234",  # any other 555 line
        "+14155552671",  # phonenumbers' own US example, a 555 number
        "+441134960123",  # Ofcom drama: Leeds 0113 496 0xxx
        "+441214960123",  # Birmingham
        "+442079460123",  # London 020 7946 0xxx
        "+442890180123",  # Belfast
        "+448081570123",  # freephone drama range
        "+61491570156",  # ACMA: 0491 570 xxx
        "+61255501234",  # ACMA: (02) 5550 xxxx
        "+447911111111",  # repeated filler digits
        "+5511999999999",
        "+421900000000",
        "+12345678901",  # one ascending run
        "+919876543210",  # one descending run
        "+6281234567890",  # 0812-3456-7890: a run typed after a real prefix
        "+5511912345678",  # (11) 91234-5678
        "+6289876543210",  # 0898-7654-3210
        "+254700000001",  # six zeros in a row
        "+421911222333",  # two repeated triples
        "+421900000123",  # 0900 000 123: five zeros in a row
        "+919876500000",  # 98765 00000
        "+5491155550000",  # 11 5555-0000: a subscriber part of two fours
    ],
)
def test_fictional_and_filler_numbers_are_never_contacts(number: str) -> None:
    assert never_a_contact(number)


@pytest.mark.parametrize(
    "number",
    [
        "+447911123456",
        "+5511987654321",
        "+421905123456",
        "+6281387264410",
        "+912240001000",
        "+447911100001",
    ],
)
def test_real_looking_numbers_are_contacts(number: str) -> None:
    assert not never_a_contact(number)


@pytest.mark.parametrize(
    "document",
    [
        "WhatsApp: +62 812-xxxx-xxxx",
        "Phone: +1 (212) XXX-XXXX",
        "Call +44 7911 123### for a quote",
        "Call +1 (212) 555-0123",
        "Call 1-800-555-0199",
        "wa.me/15551234567",
        "https://wa.me/12125550123",
        "Tel: 07700 900123",
        "Tel: 01632 960123",
        "Tel: 020 7946 0123",
        "Tel: 0113 496 0123",
        "Tel: +61 491 570 156",
        "WhatsApp +55 11 99999-9999",
        "Call 1234567890 or +1 234 567 890",
        "Tel: 0000000000",
        "Phone: +44 12345",  # not a valid number
        "Phone: +999 123 456 789",  # no such country code
        '<input type="tel" placeholder="+44 7911 123456">',
    ],
)
def test_placeholders_and_fictional_numbers_are_rejected(document: str) -> None:
    assert phones(document, "https://bulk.co.uk") == ()


# --- e-mail addresses -----------------------------------------------------------------------


def test_plain_addresses_are_lower_cased_and_unique() -> None:
    assert emails("Write to Sales@BulkZap.io or sales@bulkzap.io.") == ("sales@bulkzap.io",)


@pytest.mark.parametrize(
    "document",
    [
        '<a href="mailto:sales@bulkzap.io">Write</a>',
        '<a href="mailto:sales%40bulkzap.io?subject=Quote&body=Hi">Write</a>',
        '<a href="mailto:SALES@bulkzap.io,">Write</a>',
        "<p>sales&#64;bulkzap&#46;io</p>",
        '<script>var c = "sales\\u0040bulkzap.io";</script>',
        "Email: sales [at] bulkzap [dot] io",
        "sales(at)bulkzap(dot)io",
        "sales {at} bulkzap {dot} io",
        "sales [at] bulkzap.io",
        "sales@bulkzap[dot]io",
        "Contact us: sales at bulkzap dot io",
        "SALES AT BULKZAP DOT IO",
    ],
)
def test_english_and_encoded_forms(document: str) -> None:
    assert emails(document) == ("sales@bulkzap.io",)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Escreva para contato(arroba)disparo.com.br", "contato@disparo.com.br"),
        ("E-mail: contato [arroba] disparo [ponto] com [ponto] br", "contato@disparo.com.br"),
        ("Escríbenos: info [arroba] envios [punto] es", "info@envios.es"),
        ("Correo: info arroba envios punto es", "info@envios.es"),
        ("Napíšte nám: info (zavináč) firma (bodka) sk", "info@firma.sk"),
        ("Kontakt: info (zavinac) firma (bodka) sk", "info@firma.sk"),
        ("Kontak: kontak [at] kirim [titik] co.id", "kontak@kirim.co.id"),
        ("Email kami: halo (at) kirim (titik) co (titik) id", "halo@kirim.co.id"),
    ],
)
def test_obfuscations_in_other_languages(document: str, expected: str) -> None:
    assert emails(document) == (expected,)


@pytest.mark.parametrize(
    "document",
    [
        "Look at this dot com bubble",
        "Meet us at bulkzap.io today",  # a web address, not a mailbox
        "The team at acme dot com said so",  # spelled, but nothing announces an address
        "user@example.com you@yourdomain.com name@domain.com email@email.com",
        "test@test.com a@example.org b@sub.example.net your.name@company.com",
        "john.doe@gmail.com firstname.lastname@bulkzap.io you@yourcompany.co.uk",
        "logo@2x.png icon@3x.webp",
        "git clone git@github.com:acme/bulkzap.git",
        "https://abc123@o123.ingest.sentry.io/42",
        "605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com",
        "noreply@bulkzap.io no-reply@bulkzap.io",
        "npm i bulkzap@1.2.3",
        '<input type="email" placeholder="you@company.io">',
    ],
)
def test_not_addresses_or_not_anyones(document: str) -> None:
    assert emails(document) == ()


def test_cloudflare_protected_address_is_decoded() -> None:
    key = 0x5A
    encoded = f"{key:02x}" + "".join(f"{ord(c) ^ key:02x}" for c in "sales@bulkzap.io")
    page = (
        f'<html><body><a href="/cdn-cgi/l/email-protection#{encoded}">'
        f'<span class="__cf_email__" data-cfemail="{encoded}">[email&#160;protected]</span>'
        "</a></body></html>"
    )
    assert emails(page) == ("sales@bulkzap.io",)


# --- domains --------------------------------------------------------------------------------


def test_domains_from_the_url_links_text_and_addresses() -> None:
    page = (
        '<html><head><link rel="canonical" href="https://www.bulkzap.io/pricing">'
        '<link href="https://fonts.googleapis.com/css?family=Inter" rel="stylesheet">'
        '<script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
        '<script>fetch("https://api.tracker-vendor.com/collect"); this.app = 1;</script></head>'
        '<body xmlns="http://www.w3.org/1999/xhtml">'
        '<img src="//cdn.bulkzap-assets.net/logo.png">'
        "<p>Also at blast-pro.com.br and www.wablast.sk</p>"
        '<a href="https://wa.me/447911123456">WhatsApp</a>'
        '<a href="https://facebook.com/bulkzap">Facebook</a>'
        "<p>sales@bulkzap.co.uk, bulkzap@gmail.com</p></body></html>"
    )
    assert domains(page, "https://bulkzap.io/pricing") == (
        "blast-pro.com.br",
        "bulkzap-assets.net",
        "bulkzap.co.uk",
        "bulkzap.io",
        "wablast.sk",
    )


@pytest.mark.parametrize(
    "document",
    [
        "See README.md, setup.py, package.json, index.html and CHANGELOG.txt",
        "Run ./install.sh, load libfoo.so, edit main.rs, unpack release.zip, open clip.mov",
        "Requires Node.js 18, Vue.js, Express.js and python3.11",
        "Version 1.2.3, v2.0.1, 3.14, 10.0.0.1 and build 2024.05",
        "```python\nclient = Client(user.id)\nself.app.run()\nmsg.to = x\n```",
        "Call `api.send()` or `user.name` in your code",
        't("footer.contact.phone"), t("footer.contact.email"), key = \'app.name\'',
        "Links: wa.me/447911123456 t.me/bulkzap bit.ly/abc github.com/acme/bulkzap",
        "Mail me at someone@gmail.com or visit yourdomain.com",
    ],
)
def test_files_versions_code_and_shared_hosts_are_not_domains(document: str) -> None:
    assert domains(document) == ()


def test_a_file_extension_tld_is_a_host_with_a_scheme_or_www() -> None:
    assert domains("Install with curl https://get.bulkzap.sh | sh, docs at www.zap.md") == (
        "bulkzap.sh",
        "zap.md",
    )


def test_subdomains_collapse_to_the_registered_domain() -> None:
    assert domains("Docs at https://docs.bulkzap.com.br/v1 and app.bulkzap.com.br") == (
        "bulkzap.com.br",
    )


def test_shared_url_gives_no_domain() -> None:
    assert domains("README", "https://github.com/acme/bulkzap") == ()
    assert domains("bio", "https://acme.github.io/") == ()


# --- a whole page ---------------------------------------------------------------------------


def test_a_vendor_page() -> None:
    page = """<!DOCTYPE html>
<html lang="pt-BR"><head><meta charset="utf-8">
<title>Disparo em Massa WhatsApp | ZapMassa</title>
<meta property="og:site_name" content="ZapMassa">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Organization",
 "name": "ZapMassa", "url": "https://zapmassa.com.br", "telephone": "(11) 3456-7190",
 "sameAs": ["https://instagram.com/zapmassa"]}</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XYZ"></script></head>
<body><header><a href="/">ZapMassa</a></header>
<main><h1>Envie 100 mil mensagens por dia</h1>
<p>Preço: R$ 197,00. Pedido mínimo 1000 contatos. Suporte 24h.</p>
<a class="btn" href="https://api.whatsapp.com/send?phone=5511987654321&amp;text=Quero%20saber">
Fale no WhatsApp</a>
<form><input type="tel" placeholder="(11) 91234-5678"><input placeholder="seu@email.com">
</form></main>
<footer><p>Fone: (11) 3456-7190 · contato(arroba)zapmassa.com.br</p>
<p>© 2024 ZapMassa Ltda. CNPJ 12.345.678/0001-90</p></footer>
</body></html>"""
    assert extract_contacts(page, "https://zapmassa.com.br/") == Contacts(
        phones=("+551134567190", "+5511987654321"),
        emails=("contato@zapmassa.com.br",),
        domains=("zapmassa.com.br",),
        hosts=Hosts(own=("zapmassa.com.br",), link=("api.whatsapp.com",)),
    )


def test_a_readme() -> None:
    readme = """<p align="center"><img src="https://raw.githubusercontent.com/acme/x/logo.png"></p>

# wa-blaster

[![PyPI](https://img.shields.io/pypi/v/wa-blaster.svg)](https://pypi.org/project/wa-blaster/)

Send thousands of WhatsApp messages. Support: support [at] wablaster [dot] dev,
or WhatsApp https://wa.me/6281298765432 . Docs: https://docs.wablaster.dev

```python
from wa_blaster import Client
client = Client(session="main.json")
client.send("6287812395604@c.us", "Halo!")
```

See CONTRIBUTING.md and setup.py. Copyright (c) 2024 Budi Santoso.
"""
    assert extract_contacts(readme, "https://github.com/acme/wa-blaster") == Contacts(
        phones=("+6281298765432", "+6287812395604"),
        emails=("support@wablaster.dev",),
        domains=("wablaster.dev",),
        hosts=Hosts(own=("docs.wablaster.dev",), link=("github.com", "pypi.org", "wa.me")),
    )


# --- phones as the corpus writes them -----------------------------------------------------


def test_mexican_mobiles_with_the_old_1_are_normalised() -> None:
    assert phones("Contacto: wa.me/5215547719038") == ("+525547719038",)
    assert phones("Llámanos al +52 1 55 4771 9038") == ("+525547719038",)


def test_whatsapp_format_numbers_in_code_keys_carry_their_country() -> None:
    assert phones('{"number": "6285155207739", "message": "Halo"}') == ("+6285155207739",)


def test_numbers_a_warning_reports_are_not_its_contacts() -> None:
    warning = (
        "Recent messages came from +1 646 380 2291 and +44 7488 219604.\n\n"
        "If you shared any details, call us on +44 20 7123 4567."
    )
    assert phones(warning) == ("+442071234567",)
    assert phones("Números denunciados nesta semana:\n(21) 97042-1836\n", "https://x.com.br") == ()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Paket Rp150.000. Hubungi 0813-8726-4410", "+6281387264410"),
        ("Plano R$ 97. Chama no zap (85) 98874-2169", "+5585988742169"),
        ("Plan COP 28.000. Atención al cliente: 311 482 6650", "+573114826650"),
        ("किसी भी जानकारी के लिए शोरूम से संपर्क करें: 0261-2478800", "+912612478800"),
    ],
)
def test_the_country_of_local_numbers_from_currency_or_script(document: str, expected: str) -> None:
    assert phones(document) == (expected,)


def test_the_pages_language_outweighs_a_stray_foreign_number() -> None:
    slovak = "Podvodníci volajú z +44 7520 661318. Zákaznícka linka: 02/4020 9900, sme tu pre vás."
    assert phones(slovak) == ("+421240209900",)


def test_a_number_in_markdown_bold_is_read() -> None:
    # Two stars close the bold; three, or xx, would be a template of the format.
    assert extract_contacts("Sales: **+62 811-2640-3387** · sales@blastku.com").phones == (
        "+6281126403387",
    )
    assert extract_contacts("नंबर केवल **+91 11 4907 6620** है").phones == ("+911149076620",)
    assert extract_contacts("WhatsApp +62 812-***-***").phones == ()


def test_a_grievance_officer_is_the_publishers_contact() -> None:
    # "शिकायत अधिकारी" (grievance officer) gives a complaints contact; "शिकायत वाले नंबर"
    # (numbers complained about) reports other people's.
    own = 'शिकायत अधिकारी: श्री अजय नायर, फ़ोन <a href="tel:+912261907733">022-6190 7733</a>'
    assert extract_contacts(own).phones == ("+912261907733",)
    reported = "शिकायत वाले नंबर: +92 315 4408217"
    assert extract_contacts(reported).phones == ()
