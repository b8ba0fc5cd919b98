"""Claims of bulk or automated WhatsApp sending: who speaks, and what is offered.

Every text here is written for these tests in the style of real pages: vendors' landing pages,
the platform's help and policy pages, news, official API documentation, SMS offers and forum
posts, in English, Portuguese, Spanish, Indonesian and Slovak.
"""

from __future__ import annotations

import time
import unicodedata

import pytest

from tasks.evidence.reading.claims import (
    CLAIM_KINDS,
    VOICES,
    ClaimVerdict,
    Cue,
    detect_claims,
    explain,
)

# (text, the kinds it must at least report)
VENDOR_CLAIMS: dict[str, list[tuple[str, set[str]]]] = {
    "en": [
        (
            "ZapReach Sender v7\nBlast your promo to every customer: import 20,000 numbers from "
            "Excel and hit send. Works with WhatsApp and WhatsApp Business. Lifetime licence "
            "$39.",
            {"bulk"},
        ),
        (
            "Connect any WhatsApp number by scanning a QR code. No API, no Meta approval, no "
            "per-conversation fees. Our gateway exposes a simple REST endpoint for your CRM.",
            {"automation"},
        ),
        (
            "Keep your WhatsApp numbers alive: our warm-up module and human-like typing "
            "simulation make campaigns look natural. Get started today.",
            {"anti-ban"},
        ),
        (
            "Message leads who never saved your number. Our WhatsApp tool sends to unsaved "
            "contacts straight from a CSV file. Try it free for 7 days.",
            {"unsaved-numbers"},
        ),
        (
            "WhatsApp Group Grabber: pull the phone numbers of all participants from any WhatsApp "
            "group you are in and export them to CSV. One-time payment of $25.",
            {"scraping"},
        ),
    ],
    "pt": [
        (
            "Zap Turbo: o disparador que sua empresa precisa. Dispare para 50 mil contatos por "
            "dia com rodízio de chips e intervalo aleatório. Assine a partir de R$ 89/mês.",
            {"bulk", "anti-ban"},
        ),
        (
            "Conecte seu WhatsApp pelo QR Code e use nossa API não oficial: sem aprovação de "
            "templates e sem custo por conversa. Fale conosco.",
            {"automation"},
        ),
        (
            "Capture os números de todos os membros dos grupos de WhatsApp e envie mensagens "
            "para números não salvos na agenda. Baixe grátis o nosso extrator.",
            {"scraping", "unsaved-numbers"},
        ),
    ],
    "es": [
        (
            "Difusión masiva por WhatsApp para tiendas online: llega a 30.000 clientes al día "
            "desde nuestra plataforma. Planes desde 19 USD al mes.",
            {"bulk"},
        ),
        (
            "Nuestro bot para WhatsApp funciona sin API oficial ni verificación de Meta: solo "
            "escanea el QR y automatiza tus respuestas. Contáctanos.",
            {"automation"},
        ),
        (
            "Envía mensajes de WhatsApp a números no guardados sin bloqueos: el sistema "
            "anti-baneo aplica intervalos entre mensajes y rotación de números. Prueba gratis.",
            {"unsaved-numbers", "anti-ban"},
        ),
    ],
    "id": [
        (
            "Jasa kirim pesan massal WhatsApp untuk toko online. Bisa kirim ribuan pesan per hari "
            "tanpa simpan nomor. Hubungi admin untuk harga paket.",
            {"bulk", "unsaved-numbers"},
        ),
        (
            "WA gateway murah: cukup scan QR, tanpa approval Meta, sudah termasuk auto reply dan "
            "webhook. Daftar sekarang, gratis 3 hari.",
            {"automation"},
        ),
        (
            "Tools ambil kontak dari grup WhatsApp dan fitur anti blokir dengan jeda acak. Beli "
            "lisensi seumur hidup Rp 250.000.",
            {"scraping", "anti-ban"},
        ),
    ],
    "sk": [
        (
            "Hromadné zasielanie správ cez WhatsApp pre e-shopy: oslovte tisíce zákazníkov za "
            "pár minút. Cenník od 15 € mesačne.",
            {"bulk"},
        ),
        (
            "Správy cez WhatsApp aj na neuložené čísla, s náhodným intervalom a ochranou proti "
            "zablokovaniu. Vyskúšajte náš nástroj zdarma.",
            {"unsaved-numbers", "anti-ban"},
        ),
        (
            "Ponúkame automatické odosielanie správ cez WhatsApp bez schválenia šablón a "
            "extrakciu kontaktov zo skupín. Kontaktujte nás.",
            {"automation", "scraping"},
        ),
    ],
}

# Texts that use the same words and claim nothing, per language and role.
NOT_CLAIMS: dict[str, dict[str, str]] = {
    "en": {
        "denial": (
            "Do we send bulk WhatsApp messages? No. We don't offer mass messaging of any kind "
            "and we never message people who have not written to us first."
        ),
        "policy": (
            "WhatsApp Business Policy: businesses may not use automated or bulk messaging, send "
            "messages to people who have not opted in, or use unofficial clients. Accounts that "
            "violate these terms may be banned."
        ),
        "warning": (
            "Beware of apps that promise unlimited WhatsApp messages with anti-ban protection. "
            "Such tools break the rules and can get your number banned for good."
        ),
        "news": (
            "NEW DELHI (Reuters) - WhatsApp has sued a marketing firm that advertised "
            '"bulk WhatsApp messages to unsaved numbers, 100% ban-free" on its website, '
            "according to a court filing seen by Reuters. The firm said it had stopped the "
            "service."
        ),
        "official_api": (
            "Send marketing messages at scale with the WhatsApp Cloud API. Create message "
            "templates, submit them for approval and send them only to customers who opted in. "
            "Meta charges per conversation."
        ),
        "sms_only": (
            "Bulk SMS gateway: push up to 1,000,000 texts per hour with delivery reports. "
            "Prices from $0.004 per SMS. Questions? WhatsApp us at +44 7700 900123."
        ),
        "forum_question": (
            "Does anyone know a bulk WhatsApp sender that doesn't get banned? I need to message "
            "about 3,000 customers about a price change. Thanks!"
        ),
    },
    "pt": {
        "denial": (
            "Não fazemos disparo em massa no WhatsApp e não vendemos listas de contatos. Só "
            "respondemos clientes que nos chamam primeiro."
        ),
        "policy": (
            "Central de Ajuda do WhatsApp: o envio de mensagens em massa ou automatizadas não é "
            "permitido e viola os Termos de Serviço. Contas que fazem isso podem ser banidas."
        ),
        "warning": (
            "Cuidado: ferramentas de disparo em massa prometem envio sem bloqueio, mas o seu "
            "número pode ser banido permanentemente."
        ),
        "news": (
            'RIO DE JANEIRO — Uma empresa que anunciava "disparo em massa ilimitado para '
            'números não salvos" foi processada pelo WhatsApp, segundo a Folha. Procurada, a '
            "empresa disse que encerrou o serviço."
        ),
        "official_api": (
            "Com a API oficial do WhatsApp Business você envia notificações usando modelos "
            "aprovados pela Meta, apenas para clientes que deram opt-in. Somos provedor oficial."
        ),
        "sms_only": (
            "SMS em massa para sua empresa: envie milhares de torpedos com relatório de entrega. "
            "Pacotes a partir de R$ 0,05 por SMS."
        ),
        "forum_question": (
            "Alguém conhece um programa de disparo em massa pro WhatsApp que não bloqueie o "
            "chip? Preciso mandar promoções pra uns 2 mil clientes."
        ),
    },
    "es": {
        "denial": (
            "No ofrecemos mensajes masivos por WhatsApp ni compramos bases de datos. Solo "
            "escribimos a quienes nos contactan primero."
        ),
        "policy": (
            "Las Condiciones del servicio de WhatsApp prohíben el envío masivo o automatizado "
            "de mensajes. Las cuentas que incumplan estas políticas pueden ser bloqueadas."
        ),
        "warning": (
            "Atención: las aplicaciones de envío masivo que prometen mensajes ilimitados sin "
            "bloqueos pueden hacer que bloqueen tu número para siempre."
        ),
        "news": (
            "BOGOTÁ (EFE) - La policía investiga a una empresa que vendía "
            '"envíos masivos por WhatsApp sin bloqueos" a campañas políticas, según informó '
            "la fiscalía."
        ),
        "official_api": (
            "La API oficial de WhatsApp Business permite enviar notificaciones con plantillas "
            "aprobadas por Meta a usuarios que dieron su consentimiento. Somos socio oficial."
        ),
        "sms_only": (
            "Envío masivo de SMS: manda miles de mensajes de texto a tus clientes en minutos. "
            "Precio desde $0.02 por SMS."
        ),
        "forum_question": (
            "¿Alguien sabe de un programa para enviar mensajes masivos por WhatsApp sin que "
            "bloqueen el número? Es para mi negocio."
        ),
    },
    "id": {
        "denial": (
            "Kami tidak melayani jasa blast WA dan tidak pernah mengirim pesan massal ke nomor "
            "yang tidak menghubungi kami."
        ),
        "policy": (
            "WhatsApp melarang pengiriman pesan massal atau otomatis. Akun yang melanggar "
            "ketentuan layanan akan diblokir."
        ),
        "warning": (
            "Waspada aplikasi blast WA yang mengklaim anti banned. Nomor Anda tetap bisa "
            "diblokir permanen oleh WhatsApp."
        ),
        "news": (
            "Jakarta - Polisi menangkap pemilik usaha yang menawarkan "
            '"jasa blast WA tanpa save nomor, dijamin anti banned", kata Kapolres dalam '
            "keterangan pers."
        ),
        "official_api": (
            "Kirim notifikasi ke pelanggan dengan WhatsApp Business API resmi: template yang "
            "disetujui Meta, pelanggan opt-in, dan centang hijau. Kami mitra resmi."
        ),
        "sms_only": (
            "Jasa SMS masking dan SMS blast: kirim ribuan SMS ke pelanggan dalam hitungan menit. "
            "Harga mulai Rp 250 per SMS."
        ),
        "forum_question": (
            "Gan, ada yang tahu aplikasi kirim pesan massal WA yang aman dari banned? Mohon "
            "pencerahannya."
        ),
    },
    "sk": {
        "denial": (
            "Neposielame hromadné správy cez WhatsApp a nie je možné si u nás objednať "
            "rozosielanie správ. Odpovedáme len zákazníkom, ktorí nám napíšu."
        ),
        "policy": (
            "Podmienky používania WhatsApp zakazujú hromadné a automatizované správy. Účty, "
            "ktoré ich porušujú, môžu byť zablokované."
        ),
        "warning": (
            "Pozor na aplikácie, ktoré sľubujú neobmedzené správy cez WhatsApp bez "
            "zablokovania. Vaše číslo môže byť natrvalo zablokované."
        ),
        "news": (
            "BRATISLAVA - Polícia vyšetruje firmu, ktorá na webe inzerovala "
            "„hromadné správy cez WhatsApp na neuložené čísla“, uviedol hovorca polície."
        ),
        "official_api": (
            "Notifikácie cez oficiálne WhatsApp Business API: schválené šablóny, súhlas "
            "zákazníkov a overený účet. Sme oficiálny partner Meta."
        ),
        "sms_only": (
            "Hromadné SMS pre vašu firmu: pošlite tisíce SMS za pár minút. Cena od 0,03 € za SMS."
        ),
        "forum_question": (
            "Vie mi niekto poradiť program na hromadné správy cez WhatsApp? Potrebujem osloviť "
            "zákazníkov e-shopu."
        ),
    },
}

SIMULATOR_CLAIMS = (
    "Bulk WhatsApp marketing: reach 100,000 customers a day with our automated WhatsApp sender.",
    "Hromadné správy cez WhatsApp pre vašu firmu - neobmedzené množstvo správ za mesiac.",
    "Unlimited WhatsApp messages with WhatsApp automation, no ban guaranteed.",
    "WhatsApp blast service: send thousands of WhatsApp messages in minutes.",
)
SIMULATOR_NEUTRAL = (
    "Opening hours Monday to Friday. Write to us or call us for an appointment.",
    "Our shop sells handmade furniture. Contact our customer service for delivery dates.",
)


def _assert_well_formed(text: str, verdict: ClaimVerdict) -> None:
    assert verdict.kinds == tuple(sorted(verdict.kinds))
    assert set(verdict.kinds) <= set(CLAIM_KINDS)
    assert set(verdict.kinds) == {cue.kind for cue in verdict.cues}
    for cue in verdict.cues:
        assert text[cue.start : cue.end] == cue.text
        assert cue.text
        assert cue.text.strip() == cue.text
    if not verdict.is_claim:
        assert (verdict.kinds, verdict.cues) == ((), ())
    assert verdict.voice is None or verdict.voice in VOICES


@pytest.mark.parametrize(
    ("text", "kinds"),
    [case for cases in VENDOR_CLAIMS.values() for case in cases],
    ids=[f"{lang}-{i}" for lang, cases in VENDOR_CLAIMS.items() for i in range(len(cases))],
)
def test_vendor_offers_are_claims(text: str, kinds: set[str]) -> None:
    verdict = detect_claims(text)
    assert verdict.is_claim
    assert kinds <= set(verdict.kinds)
    _assert_well_formed(text, verdict)


@pytest.mark.parametrize(
    "text",
    [text for roles in NOT_CLAIMS.values() for text in roles.values()],
    ids=[f"{lang}-{role}" for lang, roles in NOT_CLAIMS.items() for role in roles],
)
def test_same_words_without_an_offer_are_not_claims(text: str) -> None:
    verdict = detect_claims(text)
    assert not verdict.is_claim, verdict.cues
    _assert_well_formed(text, verdict)


def test_every_language_has_each_kind_of_non_claim() -> None:
    roles = {"denial", "policy", "warning", "news", "official_api", "sms_only", "forum_question"}
    assert all(set(NOT_CLAIMS[lang]) == roles for lang in ("en", "pt", "es", "id", "sk"))
    assert all(len(VENDOR_CLAIMS[lang]) >= 3 for lang in ("en", "pt", "es", "id", "sk"))


@pytest.mark.parametrize("lang", ["en", "pt", "es", "id", "sk"])
def test_whose_voice_a_page_speaks_in_is_reported(lang: str) -> None:
    # Linking reads the voice: news naming a vendor is evidence about it, not its claim.
    roles = NOT_CLAIMS[lang]
    assert detect_claims(roles["policy"]).voice == "policy"
    assert detect_claims(roles["official_api"]).voice == "official"
    assert detect_claims(roles["forum_question"]).voice == "forum"
    if lang != "id":  # the Indonesian story carries too few report markers to tell
        assert detect_claims(roles["news"]).voice == "news"
    assert detect_claims(VENDOR_CLAIMS[lang][0][0]).voice is None


@pytest.mark.parametrize("text", SIMULATOR_CLAIMS)
def test_simulator_claims_stay_claims(text: str) -> None:
    # The simulator appends contact details; the claim must survive them.
    for document in (text, f"{text} Call +421 900 123 456 or write to sales@reach.example.sk."):
        verdict = detect_claims(document)
        assert verdict.is_claim
        _assert_well_formed(document, verdict)


@pytest.mark.parametrize("text", SIMULATOR_NEUTRAL)
def test_simulator_neutral_texts_stay_neutral(text: str) -> None:
    assert not detect_claims(f"{text} Phone +421 900 123 456.").is_claim


def test_kinds_and_cues_of_a_full_offer() -> None:
    text = (
        "BlastKit for WhatsApp\n"
        "Send unlimited messages to unsaved numbers. No API, no template approval.\n"
        "Random delays and sender rotation keep you safe from bans.\n"
        "Bonus: extract contacts from WhatsApp groups. Only $19/month."
    )
    verdict = detect_claims(text)
    assert verdict.kinds == ("anti-ban", "automation", "bulk", "scraping", "unsaved-numbers")
    _assert_well_formed(text, verdict)
    by_kind = {kind: [c.text for c in verdict.cues if c.kind == kind] for kind in verdict.kinds}
    assert "unlimited messages" in by_kind["bulk"]
    assert "unsaved numbers" in by_kind["unsaved-numbers"]
    assert "No API" in by_kind["automation"]
    assert "Random delays" in by_kind["anti-ban"]
    assert any("extract contacts from WhatsApp groups" in t for t in by_kind["scraping"])
    assert [c.start for c in verdict.cues] == sorted(c.start for c in verdict.cues)


def test_spans_point_into_the_original_text_despite_accents_and_decoration() -> None:
    # Decomposed accents (NFD), emoji, Markdown and Windows line endings change the length of
    # the folded text; spans must still be offsets into what the caller passed.
    text = unicodedata.normalize(
        "NFD",
        "🚀 **Hromadné rozosielanie** správ cez WhatsApp 🚀\r\n"
        "Posielajte na _neuložené čísla_ bez zablokovania. Cena 19 € mesačne.",
    )
    verdict = detect_claims(text)
    assert verdict.is_claim
    _assert_well_formed(text, verdict)
    texts = [unicodedata.normalize("NFC", c.text) for c in verdict.cues]
    assert "Hromadné rozosielanie" in texts
    assert "neuložené čísla" in texts
    assert "bez zablokovania" in texts


def test_cue_in_a_url_or_email_address_is_not_a_passage() -> None:
    text = (
        "Furniture workshop. Orders: orders@bulk-whatsapp-sender.example.com or "
        "https://bulkwhatsapp.example.com/anti-ban. Contact us on WhatsApp."
    )
    assert not detect_claims(text).is_claim


def test_a_denial_and_an_offer_in_one_page_is_decided_by_the_offer() -> None:
    denial = "We do not sell contact lists."
    offer = "We do offer bulk WhatsApp campaigns with random delays, from $49/month."
    verdict = detect_claims(f"{denial} {offer}")
    assert verdict.is_claim
    assert all(c.start >= len(denial) for c in verdict.cues)


@pytest.mark.parametrize(
    "text",
    [
        # Negated after the cue rather than before it.
        "Bulk WhatsApp messaging is not something we offer; we only answer incoming chats.",
        "Hromadné posielanie správ cez WhatsApp u nás nie je možné.",
        # A negated verb that carries over a list.
        "We don't do spam, bulk WhatsApp blasts or cold calling. We build websites.",
        "Não fazemos spam, disparo em massa no WhatsApp ou compra de listas.",
        # Opposing rather than offering.
        "Join our campaign against bulk WhatsApp spam during the elections.",
        # A guide titled like a question, recommending the official route.
        "How to send bulk WhatsApp messages safely: use the official Business API with opt-in.",
        # Describing the practice, not selling it.
        "Bulk WhatsApp messaging refers to sending one message to many recipients at once.",
        # A mobile plan: unlimited WhatsApp is zero-rated data, not sending.
        "Plano pré-pago 20GB com WhatsApp ilimitado e mensagens ilimitadas sem descontar dos "
        "seus dados. Recarga de R$ 30.",
        # A third party's review ranking other people's tools.
        "Top 7 WhatsApp bulk senders in 2024, compared. Pros: unlimited messages. Cons: some "
        "will get your number banned. Our verdict: stick to the official API.",
        # A job ad and a paper.
        "Vacancy: WhatsApp campaign assistant. Responsibilities: prepare bulk WhatsApp "
        "campaigns. Requirements: Excel. Salary: negotiable.",
        "Abstract. This study measures mass WhatsApp messaging in 2018 (Machado et al.). We "
        "analyse 300 public groups; the dataset is available on request.",
        # The offer is about Telegram; WhatsApp is only mentioned in passing.
        "Unlike WhatsApp, Telegram lets bots message groups. Our Telegram bulk sender sends "
        "unlimited messages. Buy now.",
        # A single-chat helper: open a chat without saving the number, nothing in bulk.
        "Open a WhatsApp chat without saving the number: paste it and we build the wa.me link "
        "for you. Free.",
    ],
)
def test_framing_that_removes_the_offer(text: str) -> None:
    assert not detect_claims(text).is_claim


@pytest.mark.parametrize(
    "text",
    [
        # An FAQ that answers its own question with "yes".
        "Can I message numbers that aren't in my contacts?\nYes. Our WhatsApp sender delivers "
        "to numbers not saved in your phonebook. Plans from $9/month.",
        # Encouraging negations are not denials.
        "Don't waste hours sending one by one: send bulk WhatsApp messages in one click. "
        "Order now.",
        "Não perca tempo: faça disparo em massa no WhatsApp com a nossa ferramenta.",
        "Tidak perlu ribet, kirim pesan massal WA langsung dari Excel. Harga Rp 50.000.",
        # A vendor that quotes a news story and then sells anyway.
        "WhatsApp banned 2 million accounts last month, according to reports. That's why "
        "our WhatsApp sender has anti-ban protection with random delays. Try it free.",
        # A negation that ends before the offer starts.
        "We don't charge setup fees, and our bulk WhatsApp sender costs $9 a month.",
        "No setup fees: bulk WhatsApp sender from $9.",
        # Brazilian slang for WhatsApp.
        "Disparo em massa no zap pra sua loja! Mensagens ilimitadas por R$ 59 por mês.",
    ],
)
def test_offers_that_look_like_something_else(text: str) -> None:
    verdict = detect_claims(text)
    assert verdict.is_claim
    _assert_well_formed(text, verdict)


def test_nothing_to_decide() -> None:
    for text in ("", "   \n", "WhatsApp", "Hromadná doprava: správy o meškaní spojov."):
        assert detect_claims(text) == ClaimVerdict(is_claim=False, kinds=(), cues=(), voice=None)


def test_cue_type() -> None:
    cue = Cue(kind="bulk", text="bulk WhatsApp", start=0, end=13)
    assert cue.kind in CLAIM_KINDS
    with pytest.raises(AttributeError):
        cue.start = 1  # type: ignore[misc]


def test_explain_says_why_each_passage_was_set_aside() -> None:
    found = explain(
        "We don't offer bulk WhatsApp. Is there an anti-ban sender anyone can recommend? "
        "The firm advertised unlimited messages on WhatsApp, police said.\n"
        "Bulk SMS: unlimited messages for $5."
    )
    assert found == [
        ("bulk", "bulk WhatsApp", "negated"),
        ("anti-ban", "anti-ban", "request"),
        ("bulk", "unlimited messages", "reported"),
        ("bulk", "unlimited messages", "not about WhatsApp"),
    ]


@pytest.mark.parametrize(
    "unit",
    ["a", "a-", "a.", "1,000,", '"', "'a ", "e\u0301", "bulk WhatsApp sender pro ", "¿ ", "@a"],
)
def test_hostile_text_takes_linear_time(unit: str) -> None:
    # Pages can be huge and made of anything; a regular expression that backtracks over a long
    # run of one character grows with the square of it (or worse). Ten times the text must take
    # about ten times as long, not a hundred: measured against itself, the short text the
    # fastest of three reads and the long one read again while it looks slow, so that a moment
    # of load on a shared machine (which once made a linear read look 64 times slower) is not
    # taken for the text's doing.
    small = unit * (10_000 // len(unit))
    text = unit * (100_000 // len(unit))
    bound = 30 * min(_seconds(small) for _ in range(3)) + 1.0
    assert any(_seconds(text) < bound for _ in range(3))
    _assert_well_formed(text, detect_claims(text))


def _seconds(text: str) -> float:
    """How long ``detect_claims`` took on ``text``."""
    started = time.perf_counter()
    detect_claims(text)
    return time.perf_counter() - started
