"""What a document says about itself: its own date and the name of the party that speaks."""

from __future__ import annotations

import datetime
import time

import pytest

from tasks.evidence.reading.brand import brand
from tasks.evidence.reading.document_facts import document_date

D = datetime.date


def html(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


# --- document_date: structured ----------------------------------------------------------------


def test_modified_meta_wins_over_published() -> None:
    # The latest date the page vouches for: its offer stood then.
    page = html(
        '<meta property="article:modified_time" content="2022-01-01T08:00:00+00:00">'
        '<meta property="article:published_time" content="2021-03-12T10:00:00+00:00">'
    )
    assert document_date(page) == D(2022, 1, 1)


def test_publication_date_when_nothing_says_updated() -> None:
    page = html('<meta property="article:published_time" content="2021-03-12T10:00:00+00:00">')
    assert document_date(page) == D(2021, 3, 12)


def test_update_date_when_nothing_says_published() -> None:
    assert document_date(html('<meta property="og:updated_time" content="2022-01-05">')) == D(
        2022, 1, 5
    )


@pytest.mark.parametrize(
    "head",
    [
        '<meta name="date" content="2021-03-12">',
        '<meta name="DC.date.issued" content="2021-03-12">',
        '<meta itemprop="datePublished" content="2021-03-12T09:00:00Z">',
        '<meta http-equiv="last-modified" content="Fri, 12 Mar 2021 10:00:00 GMT">',
    ],
)
def test_meta_dates(head: str) -> None:
    assert document_date(html(head)) == D(2021, 3, 12)


def test_json_ld_dates() -> None:
    ld = (
        '{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "X"},'
        ' {"@type": "BlogPosting", "dateModified": "2022-02-02", "datePublished": "2020-05-06",'
        ' "comment": [{"@type": "Comment", "datePublished": "2023-01-01"}]}]}'
    )
    page = html(f'<script type="application/ld+json">{ld}</script>')
    assert document_date(page) == D(2022, 2, 2)  # the posting's, not its comment's


def test_json_ld_tolerates_wrappers_and_control_characters() -> None:
    ld = '/* <![CDATA[ */ {"@type": "Article", "headline": "a\nb", "dateModified": "2021-03-12"} '
    page = html(f'<script type="application/ld+json">{ld}/* ]]> */</script>')
    assert document_date(page) == D(2021, 3, 12)


def test_broken_or_deep_json_ld_is_ignored() -> None:
    for ld in ("{not json", "[" * 100_000, '{"a":' * 50_000):
        assert document_date(html(f'<script type="application/ld+json">{ld}</script>')) is None


def test_time_in_a_byline() -> None:
    page = html(
        body='<article><header class="entry-header"><h1>Title</h1>'
        '<div class="byline">By Ana <time datetime="2019-08-07T10:00">7 Aug</time></div>'
        "</header><p>From 7 December 2019 WhatsApp will take legal action.</p>"
        '<aside><time datetime="2024-01-01">1 Jan</time></aside></article>'
    )
    assert document_date(page) == D(2019, 8, 7)


def test_time_outside_any_byline_is_not_the_documents() -> None:
    page = html(body='<ul class="recent"><li><time datetime="2024-01-01">1 Jan</time></li></ul>')
    assert document_date(page) is None


def test_time_marked_as_updated() -> None:
    page = html(body='<p><time class="updated" datetime="2022-06-01">June</time></p>')
    assert document_date(page) == D(2022, 6, 1)


# --- document_date: labelled text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published: 12 March 2021", D(2021, 3, 12)),
        ("Published on 12th March 2021", D(2021, 3, 12)),
        ("Posted on March 12, 2021 by admin", D(2021, 3, 12)),
        ("Posted by Jane Doe on Mar 12, 2021", D(2021, 3, 12)),
        ("Last updated: 2021-03-12", D(2021, 3, 12)),
        ("Last modified 2021/03/12 10:30", D(2021, 3, 12)),
        ("Date: 12.03.2021", D(2021, 3, 12)),
        ("Updated: Friday, 12 March 2021 10:30 UTC", D(2021, 3, 12)),
        ("Publicado em 12 de março de 2021", D(2021, 3, 12)),
        ("Publicado em 12 de marco de 2021", D(2021, 3, 12)),
        ("Atualizado em 05/04/2021", D(2021, 4, 5)),
        ("Publicado el 12 de marzo de 2021", D(2021, 3, 12)),
        ("Última actualización: 3 de abril de 2022", D(2022, 4, 3)),
        ("Actualizado el 1 de diciembre de 2020", D(2020, 12, 1)),
        ("Diterbitkan 12 Maret 2021", D(2021, 3, 12)),
        ("Dipublikasikan pada 3 Agustus 2020", D(2020, 8, 3)),
        ("Diperbarui: Senin, 12 April 2021 10:30 WIB", D(2021, 4, 12)),
        ("Publikované: 12. marca 2021", D(2021, 3, 12)),
        ("Aktualizované 12. 3. 2021", D(2021, 3, 12)),
        ("Dátum: 1. júna 2020", D(2020, 6, 1)),
        ("Datum: 5.6.2020", D(2020, 6, 5)),
        ("By Ana | Published 12 March 2021 | 5 min read", D(2021, 3, 12)),
        ("Postado em 12/03/2021 por joao_vendas", D(2021, 3, 12)),
        ("Postado por joao_vendas em 12/03/2021", D(2021, 3, 12)),
        ("Pridané 12. 3. 2021 používateľom jano_ba", D(2021, 3, 12)),
        ("Lokalita: Košice · Pridané: 12.3.2021 · Cena: 50 €", D(2021, 3, 12)),
        ("Sold by ToolShop · Listed on 12 March 2021", D(2021, 3, 12)),
        ("Home • Blog • Posted 12/03/2021", D(2021, 3, 12)),
    ],
)
def test_labelled_dates(text: str, expected: datetime.date) -> None:
    assert document_date(text) == expected
    assert document_date(html(body=f"<p>{text}</p>")) == expected


def test_markdown_front_matter() -> None:
    readme = "---\ntitle: Bulk sender\ndate: 2021-03-12\n---\n# Bulk sender\n"
    assert document_date(readme) == D(2021, 3, 12)


@pytest.mark.parametrize(
    "text",
    [
        "Why bulk senders get banned\n\nTech Daily · 12 March 2021\n\nBody text.",
        "Alerta de golpe\n\nBanco Exemplo · Segurança · 12/03/2021\n\nTexto.",
        "Penipuan WA blast\n\nKabar Digital — Jumat, 12 Maret 2021\n\nIsi berita.",
        "Anti-ban tools explained\n\nMarch 12, 2021\n\nBody text.",
    ],
)
def test_dateline_near_the_top(text: str) -> None:
    assert document_date(text) == D(2021, 3, 12)


def test_dateline_is_only_near_the_top() -> None:
    text = "Title\n\n" + "A line of text.\n" * 40 + "Tech Daily · 12 March 2021\n"
    assert document_date(text) is None


def test_label_and_date_in_separate_elements() -> None:
    page = html(body='<div class="meta"><span>Published</span></div><div>12 March 2021</div>')
    assert document_date(page) == D(2021, 3, 12)


def test_updated_label_wins_over_published_label() -> None:
    text = "Published: 12 March 2021\nLast updated: 1 June 2023\n\nBody"
    assert document_date(text) == D(2023, 6, 1)
    byline = "Published Jan 27, 2025 · Updated Apr 2, 2025 · 9 min read\n\nBody"
    assert document_date(byline) == D(2025, 4, 2)


@pytest.mark.parametrize(
    "text",
    [
        "From 7 December 2019 WhatsApp will take legal action against bulk senders.",
        "WhatsApp says: from 7 December 2019 WhatsApp will take legal action.",
        "Updated terms: from 7 December 2019 WhatsApp will take legal action.",
        "WhatsApp updated its terms on 12 March 2021.",
        "The app was published in 2019 and updated on 12 March 2021 to add groups.",
        "Posted 2 years ago",
        "Published: 31/02/2021",  # no such day
        "Published: 12 March 1850",  # not a web document's date
        "Copyright 2024",
        "",
    ],
)
def test_dates_that_are_not_the_documents(text: str) -> None:
    assert document_date(text) is None


# --- document_date: day or month first ------------------------------------------------------


def test_numeric_dates_are_day_first_by_default() -> None:
    assert document_date("Published: 03/12/2021") == D(2021, 12, 3)
    assert document_date("Publicado em 03/12/2021") == D(2021, 12, 3)


def test_a_part_above_12_decides() -> None:
    assert document_date("Published: 12/25/2021") == D(2021, 12, 25)
    assert document_date("Published: 25/12/2021") == D(2021, 12, 25)


def test_month_first_under_english_label_in_us_context() -> None:
    us = '<html lang="en-US"><body><p>Published: 03/12/2021</p></body></html>'
    assert document_date(us) == D(2021, 3, 12)
    us_style = "Posted: 03/12/2021\n\nOur March 1, 2021 release added groups."
    assert document_date(us_style) == D(2021, 3, 12)
    # Portuguese label on a US-declared page, and dotted dates: still day first.
    pt = '<html lang="en-US"><body><p>Publicado em 03/12/2021</p></body></html>'
    assert document_date(pt) == D(2021, 12, 3)
    dotted = '<html lang="en-US"><body><p>Published: 03.12.2021</p></body></html>'
    assert document_date(dotted) == D(2021, 12, 3)


def test_date_on_hostile_input_stays_fast() -> None:
    started = time.perf_counter()
    for document in (
        "<div>" * 100_000 + "Published: 12 March 2021" + "</div>" * 100_000,
        "Published " * 20_000,
        "12 March 2021 " * 20_000,
        "Published: " + "12/" * 50_000,
    ):
        document_date(document)
    assert document_date("<div>" * 100_000 + "Published: 12 March 2021") == D(2021, 3, 12)
    assert time.perf_counter() - started < 30


# --- brand ----------------------------------------------------------------------------------


def test_og_site_name_first() -> None:
    page = html('<meta property="og:site_name" content="BulkZap"><title>Pricing | Other</title>')
    assert brand(page, "https://bulkzap.io/pricing") == "BulkZap"


def test_json_ld_publisher_then_organization() -> None:
    ld = (
        '{"@graph": [{"@type": "WebSite", "name": "BulkZap Blog"},'
        ' {"@type": "Article", "publisher": {"@type": "Organization", "name": "BulkZap Ltd"}}]}'
    )
    script = f'<script type="application/ld+json">{ld}</script>'
    page = html(f"<title>How to send | Blog</title>{script}")
    assert brand(page) == "BulkZap"  # the trading name: the legal form is dropped
    org = '{"@type": ["Organization"], "name": "Reach Media s.r.o."}'
    assert brand(html(f'<script type="application/ld+json">{org}</script>')) == "Reach Media"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Bulk sender license\n\nSeller: ToolShop ⭐ 4.9 (120 reviews) · Level 2", "ToolShop"),
        ("Disparador vitalício\n\nVendido por Loja Digital | +500 vendidos", "Loja Digital"),
        ("Software WA Blast\n\nPenjual: Toko Maju Jaya\nHarga: Rp 150.000", "Toko Maju Jaya"),
        ("Licencia\n\nVendedor: SoftMX, 4.8 estrellas", "SoftMX"),
    ],
)
def test_marketplace_seller(document: str, expected: str) -> None:
    assert brand(document) == expected


def test_seller_wins_over_the_marketplace_site_name() -> None:
    page = html('<meta property="og:site_name" content="BigMarket">', "<p>Sold by ToolShop</p>")
    assert brand(page) == "ToolShop"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<h1>Zaptide</h1><p>Mass WhatsApp campaigns.</p>", "Zaptide"),
        ("<h2>GrupoLeads — Extrator de contatos</h2><p>Texto.</p>", "GrupoLeads"),
        ("<h1>Contact Chatlytics</h1><p>Offices.</p>", "Chatlytics"),
        ("<h1>All-in-one WhatsApp Marketing Software</h1>", None),  # a slogan
        ("<h1>Envie 100 mil mensagens por dia</h1>", None),
    ],
)
def test_heading_of_an_html_fragment(body: str, expected: str | None) -> None:
    assert brand(body) == expected


def test_footer_wins_over_heading() -> None:
    assert brand("<h1>Fast Sender</h1><footer>© 2024 Reach Media s.r.o.</footer>") == (
        "Reach Media"
    )


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("Pricing | Bulk Zap", "https://bulkzap.io/pricing", "Bulk Zap"),
        ("Bulk WhatsApp Sender - bulkzap", "https://www.bulkzap.io/", "bulkzap"),
        ("BulkZap - Bulk WhatsApp Sender", None, "BulkZap"),
        ("Bulk WhatsApp Sender | BlastPro", None, "BlastPro"),
        ("Disparo em Massa: ZapMassa", None, "ZapMassa"),
        ("Home – ZapMassa", None, "ZapMassa"),
        ("Welcome to ZapMassa", None, "ZapMassa"),
        ("Kontak Kami | KirimCepat", None, "KirimCepat"),
        ("ZapMassa", None, "ZapMassa"),
        ("send unlimited whatsapp messages today", None, None),
        ("send unlimited whatsapp messages today", "https://api.whatsapp.com/send", None),
    ],
)
def test_title(title: str, url: str | None, expected: str | None) -> None:
    assert brand(html(f"<title>{title}</title>"), url) == expected


def test_placeholder_titles_fall_back_to_the_domain() -> None:
    for title in (
        "Just a moment...",
        "Attention Required! | Cloudflare",
        "404 Not Found",
        "502 Bad Gateway",
        "Home",
    ):
        assert brand(html(f"<title>{title}</title>"), "https://bulkzap.io/") == "bulkzap"


@pytest.mark.parametrize(
    ("footer", "expected"),
    [
        ("© 2024 Reach Media s.r.o. All rights reserved.", "Reach Media"),
        ("Copyright © 2019-2024 BulkZap. All rights reserved.", "BulkZap"),
        ("© BulkZap 2024", "BulkZap"),
        ("© 2024 ZapMassa Ltda. Todos os direitos reservados.", "ZapMassa"),
        ("Hak Cipta © 2024 PT Kirim Pesan Indonesia", "Kirim Pesan Indonesia"),
        ("© 2024 Acme, Inc.", "Acme"),
        ("Copyright 2024 by Blast Tools | Privacy | Terms", "Blast Tools"),
    ],
)
def test_copyright_holder(footer: str, expected: str) -> None:
    assert brand(html("<title>send messages in bulk</title>", f"<footer>{footer}</footer>")) == (
        expected
    )


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        ("# BulkZap 🚀\n\n[![build](https://img.shields.io/x.svg)](x)\n", "BulkZap"),
        ("# [wa-sender](https://github.com/x/wa-sender) — Bulk WhatsApp sender\n", "wa-sender"),
        ("WaBlast\n=======\n\nSend messages.\n", "WaBlast"),
        (
            '<h1 align="center"><img src="logo.png"><br>WaBlast</h1>\n\n## Features\n\n- a\n- b',
            "WaBlast",
        ),
        ("```\n# not a heading\n```\n\n# wa-bot: WhatsApp bot\n", "wa-bot"),
        ("# BulkZap\n\nMIT License\n\nCopyright (c) 2024 John Smith\n", "BulkZap"),
        ("# Jasa Blast WA Murah — BlastKu Indonesia\n\nIsi.\n", "BlastKu Indonesia"),
        ("# Send message templates — Cloud API Docs\n\nBody.\n", "Cloud API"),
        ("Some notes\n\nCopyright (c) 2024 John Smith\n", "John Smith"),
    ],
)
def test_readme_project_name(readme: str, expected: str) -> None:
    assert brand(readme) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://bulkzap.io/pricing", "bulkzap"),
        ("https://www.disparo-rapido.com.br/", "disparo-rapido"),
        ("https://github.com/acme/bulkzap", "bulkzap"),
        ("https://github.com/acme", "acme"),
        ("https://acme.github.io/sender/", "acme"),
        ("https://t.me/acme", None),
        ("https://wa.me/447911123456", None),
        (None, None),
    ],
)
def test_url_fallback(url: str | None, expected: str | None) -> None:
    assert brand("nothing that names anyone", url) == expected


def test_brand_on_an_html_bomb() -> None:
    assert brand("<div>" * 100_000 + "</div>" * 100_000, "https://bulkzap.io") == "bulkzap"


# --- dates as the corpus writes them ---------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Pricing\n\nUpdated March 2024 · prices in PHP", D(2024, 3, 1)),
        ("Dockside Journal · Small Business Tech · Jan 2023\n\nText.", D(2023, 1, 1)),
        ("CENNÍK\nAktualizované: apríl 2024 · ceny s DPH", D(2024, 4, 1)),
        ("Preguntas\nÚltima actualización: 14 de setenbro de 2023", D(2023, 9, 14)),
        ("Správa\nJán Molnár · 20. septembera 2023, 14:05", D(2023, 9, 20)),
        ("Title\n\nJAKARTA, 14 Januari 2020 – WhatsApp menggugat", D(2020, 1, 14)),
        ("Title\n\nMONTERREY, N.L., 9 de mayo de 2023.– Meta demandó", D(2023, 5, 9)),
        ("Title\n**Lipa pekárne** · Zvolen, 22. augusta 2023\n\nMilí", D(2023, 8, 22)),
        (html("<title>Guía</title>", "<div>Ana Ruiz14 de marzo de 2024</div>"), D(2024, 3, 14)),
        ("शीर्षक\nलेखक: अमित शर्मा | १४ जनवरी २०२४\n\nपाठ", D(2024, 1, 14)),
        ("शीर्षक\n_अंतिम अपडेट: 18 दिसंबर 2023_", D(2023, 12, 18)),
        ("ऐप\nअपडेट किया गया: 12 अग॰ 2024", D(2024, 8, 12)),
        ("Effective date: 1 July 2023\n\n1. Scope", D(2023, 7, 1)),
        ("Harga paket.\n\n*Harga berlaku per 1 Maret 2024.*", D(2024, 3, 1)),
        ("Mensaje de ferreteria_lucena » 19 Sep 2023, 18:04\n\nHola", D(2023, 9, 19)),
    ],
)
def test_dates_as_pages_write_them(document: str, expected: D) -> None:
    assert document_date(document) == expected


@pytest.mark.parametrize(
    "document",
    [
        "We met in Jakarta. JAKARTA is big, 14 Januari 2020 was the day we met them all",
        "Prices went up in March 2024 after the holidays, says the team.",
        "© 2023 Vendor · All rights reserved",
    ],
)
def test_running_text_and_copyright_years_are_not_dates(document: str) -> None:
    assert document_date(document) is None


# --- brand by agreement ----------------------------------------------------------------------


def test_the_name_that_spells_the_publishers_domain_wins() -> None:
    text = (
        "KESTREL PING – BILLING & ACCOUNT FAQ\n\nQ: When am I charged?\n"
        "Email accounts@kestrelping.co.uk.\n\nKestrel Ping Ltd, Unit 4, Manchester."
    )
    assert brand(text, domains=("kestrelping.co.uk",)) == "Kestrel Ping"


def test_a_shouted_first_line_named_again_is_the_name() -> None:
    text = "GEMA BLAST — Software WA Blast No. 1\n\nDengan Gema Blast, cukup upload file."
    assert brand(text) == "Gema Blast"
    assert brand("NOTA DE ESCLARECIMENTO\n\nA empresa esclarece que não envia.") is None


def test_the_platform_is_the_publisher_only_where_it_names_itself() -> None:
    vendor = html("<title>Bulk WhatsApp Sender | Zapio</title>", "<footer>© 2024 Zapio</footer>")
    assert brand(vendor) == "Zapio"
    help_page = html(
        "<title>How to use broadcast lists | WhatsApp Help Center</title>", "<p>Text.</p>"
    )
    assert brand(help_page) == "WhatsApp"


def test_marketplace_names_and_section_words_are_not_brands() -> None:
    gig = "fiverr.com › Services\n\nI will send messages\n\nFiverr\nelmstead_auto · Level 2"
    assert brand(gig) is None
    assert brand(html("<title>Nimbusend Help Center</title>")) == "Nimbusend"


# --- brands in Devanagari ---------------------------------------------------------------------


def test_a_devanagari_name_that_spells_the_domain_is_the_brand() -> None:
    faq = (
        "# बिलिंग और अकाउंट – अक्सर पूछे जाने वाले सवाल\n\n**मैसेज मित्र** सहायता केंद्र\n\n"
        "उत्तर: billing@messagemitra.co.in पर लिखें।\n\n---\nमैसेज मित्र, लखनऊ"
    )
    assert brand(faq, domains=["messagemitra.co.in"]) == "मैसेज मित्र"


def test_one_party_named_in_both_scripts_adds_up() -> None:
    # The logo's Devanagari and the site name's Latin letters agree, against a Latin heading
    # that alone weighs more than either.
    page = html(
        '<meta property="og:site_name" content="Ojas Panel">',
        '<img src="/logo.svg" alt="ओजस पैनल"><h1>Reseller Hub</h1><p>© 2024 Reseller Hub</p>',
    )
    assert brand(page) == "Ojas Panel"


def test_a_store_named_in_hindi_is_not_the_brand() -> None:
    listing = html(
        "<title>लहर सेंडर – बल्क मैसेज - Chrome वेब स्टोर</title>"
        '<meta property="og:site_name" content="Chrome वेब स्टोर">',
        "<h1>लहर सेंडर – बल्क मैसेज</h1><p>www.laharsender.com पर लें।</p>",
    )
    assert brand(listing, hosts=["www.laharsender.com"], domains=["laharsender.com"]) == "लहर सेंडर"
