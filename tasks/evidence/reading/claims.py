"""Does a document offer bulk or automated WhatsApp sending outside the official platform?

A claim found here can end in a legal notice, so the detector is built for precision: it
decides who speaks and what is offered, not which words appear. The same words ("bulk
WhatsApp", "unlimited messages", "anti-ban") occur in the platform's own policies, in news
about the vendors, in warnings, in official Business Platform documentation, in forum questions
and in denials; none of those is a claim.

How it works, in five languages (English, Portuguese, Spanish, Indonesian, Slovak):

1. The text is folded (lower case, no accents, via ``indicators.fold``) into a *view* that
   remembers, for each folded character, where it came from, so every cue can be reported with
   its exact span in the input. URLs and e-mail addresses are blanked out in the view: a
   vendor's domain name is not a sentence it wrote.
2. Offer cues are found per kind (bulk, automation, unsaved numbers, anti-ban, scraping).
   A *strong* cue can decide a document on its own; a *weak* one ("WhatsApp chatbot",
   "scan the QR code", "avoid getting blocked") only adds its kind to a document that is a claim
   for another reason, because the same phrases describe legitimate products and help pages.
3. Each cue is judged in its sentence and clause: it is dropped when it is not about WhatsApp
   (nearest channel mentioned is SMS, e-mail, Telegram...), negated ("we do not offer..."),
   asked ("is there a tool...?"), reported ("said", "according to", "the firm advertised"),
   prohibited ("is not allowed", "violates the Terms"), warned against ("beware", "these tools
   will get you banned"), or framed by the official API (templates, opt-in, "official API").
4. The document's voice decides the rest: a news, policy, academic, job, forum or review page,
   or a mobile plan, keeps only cues that the speaker offers in its own voice ("we offer", "our
   tool", "kami menyediakan") outside quotation marks; an official-API page keeps only cues that
   are unofficial by nature (no API / no approval, anti-ban measures, scraping); and somebody must
   be selling (first or second person, prices, calls to action, product nouns, imperatives) for
   a cue to count. A page whose only offer is sending to unsaved numbers and that builds wa.me
   links is a single-chat helper, not a bulk tool.

``detect_claims`` returns the verdict, its kinds (sorted alphabetically) and the passages that
stand; ``explain`` lists every passage found with the reason it was set aside, for analysts.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from tasks.evidence.reading.indicators import fold

CLAIM_KINDS = ("bulk", "automation", "unsaved-numbers", "anti-ban", "scraping")


@dataclass(frozen=True)
class Cue:
    kind: str  # one of CLAIM_KINDS
    text: str  # the decisive passage as written in the input
    start: int  # character span in the input text (text == input[start:end])
    end: int


@dataclass(frozen=True)
class ClaimVerdict:
    is_claim: bool
    kinds: tuple[str, ...]  # sorted subset of CLAIM_KINDS; empty when not a claim
    cues: tuple[Cue, ...]  # the passages that decided it (empty when not a claim)
    # Whose voice the document speaks in when it is not a seller's: one of VOICES, or None.
    # Linking reads it: news naming companies is evidence about them, not their own claim.
    voice: str | None = None


NOT_A_CLAIM = ClaimVerdict(is_claim=False, kinds=(), cues=())
VOICES = ("news", "policy", "academic", "job", "forum", "review", "telecom", "official")

# ---------------------------------------------------------------------------------------------
# Pattern notation. _Lexicon entries are regular expressions over folded text, written with two
# shorthands so they stay readable: a space stands for one or more spaces or hyphens, and "~" for
# an optional space or hyphen ("anti~ban" matches "antiban", "anti ban" and "anti-ban").
# {WA} is any way of naming WhatsApp inside an offer phrase, {N} a count of a thousand or more,
# {G2}..{G4} a gap of up to that many words ("extract the numbers of all members of groups").
# ---------------------------------------------------------------------------------------------

_WA = r"(?:whats~app\w*|whatsap|watsap+|whatapp|wpp|wa|whats|zap~zap|zap|wsp|wasap|guasap)"
_N = (
    r"(?<![\d,.])(?:\d{1,3}(?:[,.\s]\d{3})+|\d{4,}|\d+(?:[.,]\d+)?~(?:k|rb|ribu|mil|tisic)"
    r"|\d+~(?:thousand|mil|ribu|tisic))"
)
_LANGS = ("en", "pt", "es", "id", "sk")

_Lexicon = Mapping[str, tuple[str, ...]]


def _expand(pattern: str) -> str:
    pattern = pattern.replace("{WA}", _WA).replace("{N}", _N)
    for n in (2, 3, 4):
        pattern = pattern.replace(f"{{G{n}}}", rf"(?:[\w']+ ){{0,{n}}}?")
    return pattern.replace(" ", r"[\s\-–]+").replace("~", r"[\s\-]?")


def _compile(*lexicons: _Lexicon | tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of every phrase, matched on word boundaries."""
    phrases: list[str] = []
    for lexicon in lexicons:
        if isinstance(lexicon, tuple):
            phrases.extend(lexicon)
        else:
            for lang in _LANGS:
                phrases.extend(lexicon.get(lang, ()))
    body = "|".join(_expand(p) for p in phrases)
    # The lookahead rejects, before the long alternation is tried, every position where no
    # phrase can start (a phrase starts with a letter, a digit or "(").
    return re.compile(rf"(?<!\w)(?=[\w(])(?:{body})(?!\w)")


# ---------------------------------------------------------------------------------------------
# Offer cues, per kind. Strong cues decide; weak cues only add their kind (see module doc).
# ---------------------------------------------------------------------------------------------

_BULK: _Lexicon = {
    "en": (
        r"bulk {WA}(?: (?:sender|messag\w*|marketing|campaigns?|tools?|software|services?"
        r"|sending|blast\w*|broadcast\w*))?",
        r"{WA} bulk(?: (?:sender|messag\w*|marketing|sending|tools?|software|services?"
        r"|campaigns?))?",
        r"mass {WA}(?: messag\w*)?",
        r"{WA} mass (?:messag\w*|sending|marketing|broadcast\w*)",
        r"{WA} blast\w*(?: (?:services?|tools?|software|campaigns?))?",
        r"blast(?:ing)? (?:on |via |through |to )?{WA}",
        r"bulk (?:messag\w*|send\w*|campaigns?|broadcast\w*)",
        r"mass (?:messag\w*|send\w*|broadcast\w*)",
        r"blast (?:messages|campaigns?)",
        r"blast\w* (?:your |a |the )?(?:promos?|promotions?|offers?|announcements?|message)",
        r"(?:import|upload)\w* (?:up to |over )?(?:{N}\+?|thousands of) (?:numbers|contacts"
        r"|leads|phone numbers)",
        r"(?:send|blast|message)\w* {G4}to (?:your )?(?:entire|whole|all (?:of )?your|full) "
        r"(?:customer |contact |client |subscriber )?(?:list|base|database|contacts|customers)",
        r"(?:send|blast|message)\w* {G4}(?:at once|in one click|with one click)",
        r"unlimited (?:{WA} )?(?:messag\w*|sending|sends|broadcasts?|campaigns?|blasts?)",
        r"{WA} (?:messages )?unlimited",
        r"(?:no|without) (?:(?:daily|monthly|message|messaging|sending) )+(?:limits?|caps?)",
        r"send\w* (?:messages )?without limits?",
        r"(?:send|message|blast)\w* {G3}(?:to )?(?:up to |over |more than )?"
        r"(?:thousands|millions|hundreds of thousands|tens of thousands|{N}\+?) (?:of )?"
        r"(?:{WA} )?(?:messages|msgs|customers|contacts|numbers|people|users|leads|recipients"
        r"|clients)",
        r"{N}\+? (?:{WA} )?(?:messages|msgs) {G2}(?:(?:per|a|an|every|each) |/ ?)"
        r"(?:day|hour|minute|min|month)",
        r"{N}\+? (?:{WA} )?(?:messages|msgs) {G2}(?:daily|hourly|monthly)",
        r"{WA} sender (?:pro|tool|software|app|extension|plus|premium|v?\d)\w*",
        r"{WA} sending (?:software|tools?|apps?|extension)",
        r"(?:{WA} )?broadcast\w* (?:to )?(?:unlimited|thousands|millions|all your contacts|{N})",
    ),
    "pt": (
        r"disparos? (?:em massa|massivos?|ilimitados?|de mensage\w*|de {WA}"
        r"|(?:no|pelo|via|do|pro|para o) {WA})",
        r"disparador\w*(?: de (?:mensage\w*|{WA}))?",
        r"envios? (?:em massa|massivos?|ilimitados?|em lote)",
        r"mensage\w* (?:em massa|ilimitadas|em lote|massivas)",
        r"transmiss\w* em massa",
        r"marketing em massa",
        r"{WA} em massa",
        r"campanhas? em massa",
        r"sem limites? de (?:envios?|mensage\w*|disparos?)",
        r"(?:envi|dispar|mand)\w* {G3}(?:para )?(?:ate |mais de )?(?:milhares"
        r"|milhoes|centenas de milhares|dezenas de milhares|{N}) (?:de )?(?:mensage\w*|contatos"
        r"|clientes|numeros|pessoas|leads)",
        r"{N} (?:de )?mensage\w* (?:por |ao |/ ?)(?:dia|hora|minuto|mes)",
        r"(?:envi|dispar|mand)\w* {G4}para (?:toda a sua|todos os seus|toda sua) "
        r"(?:lista|base|contatos|clientes)",
        r"(?:envi|dispar|mand)\w* {G4}(?:de uma (?:so )?vez|com um (?:so )?clique)",
    ),
    "es": (
        r"envios? masivos?",
        r"mensajes? masivos?",
        r"mensajeria masiva",
        r"difusion\w* masivas?",
        r"campanas masivas",
        r"{WA} masivo",
        r"marketing masivo",
        r"envios? en masa",
        r"mensajes ilimitados",
        r"envios ilimitados",
        r"sin limites? de (?:mensajes|envios)",
        r"(?:envi|mand|campan)\w* {G3}(?:a )?(?:hasta |mas de )?(?:miles|millones"
        r"|cientos de miles|decenas de miles|{N}) (?:de )?(?:mensajes|contactos|clientes"
        r"|numeros|personas|leads)",
        r"{N} (?:de )?mensajes (?:por |al |/ ?)(?:dia|hora|minuto|mes)",
        r"(?:envi|mand)\w* {G4}a (?:toda tu|todos tus) (?:lista|base|contactos|clientes)",
        r"(?:envi|mand)\w* {G4}(?:de una (?:sola )?vez|con un (?:solo )?clic)",
    ),
    "id": (
        r"blast\w* (?:{WA}|pesan)",
        r"{WA} blast\w*",
        r"(?:jasa|aplikasi|software|tools?|layanan|paket) (?:blast\w*|broadcast)(?: {WA})?",
        r"(?:kirim\w* |mengirim )?pesan (?:{WA} )?(?:massal|masal)",
        r"(?:kirim|blast|broadcast)\w* (?:{WA} )?(?:massal|masal)",
        r"(?:kirim|blast|broadcast)\w* (?:pesan )?(?:unlimited|tanpa batas|sepuasnya)",
        r"unlimited (?:pesan|kirim|broadcast|blast)\w*",
        r"(?:kirim\w*|mengirim|blast\w*) {G3}(?:ke )?(?:hingga |sampai |lebih dari )?"
        r"(?:ribuan|jutaan|ratusan ribu|puluhan ribu|{N}) (?:pesan|kontak|pelanggan|nomor|orang"
        r"|customer)",
        r"{N} pesan (?:per |se|/ ?)(?:hari|jam|menit|bulan)",
        r"(?:kirim|blast|broadcast)\w* {G4}(?:ke )?(?:semua|seluruh) (?:kontak|pelanggan|nomor)"
        r"\w* (?:sekaligus|dengan sekali klik)",
        r"(?:kirim|blast|broadcast)\w* {G4}(?:sekaligus|dengan sekali klik)",
    ),
    "sk": (
        r"hromadn\w* (?:sprav\w*|posielan\w*|odosielan\w*|rozosielan\w*|zasielan\w*|{WA}"
        r"|kampan\w*|marketing\w*)",
        r"neobmedzen\w* (?:mnozstv\w* |pocet )?(?:sprav\w*|posielan\w*|odosielan\w*"
        r"|rozosielan\w*|kontakt\w*)",
        r"bez obmedzeni\w* (?:poctu )?(?:sprav|odosielan\w*|posielan\w*)",
        r"masov\w* (?:rozosielan\w*|posielan\w*|odosielan\w*|sprav\w*)",
        r"(?:posl|odosl|rozosl|posiel|odosiel)\w* {G3}(?:az |viac ako )?(?:tisice|tisicky"
        r"|tisickam|miliony|stovky tisic|desiatky tisic|{N}) (?:sprav|kontaktov|zakaznik\w*|cisel"
        r"|ludi)",
        r"{N} sprav (?:denne|za den|za hodinu|za mesiac|/ ?den)",
        r"(?:posl|posiel|rozosiel|odosiel)\w* {G4}(?:naraz|jednym klikom|vsetkym (?:zakaznikom"
        r"|kontaktom))",
    ),
}

# Legitimate products use these too (official broadcast lists, BSP marketing suites).
_BULK_WEAK: _Lexicon = {
    "en": (
        # Shops "reach 50,000 customers" too; with WhatsApp sending it says how many.
        r"reach\w* {G3}(?:up to |over |more than )?(?:thousands|millions|{N}\+?) (?:of )?"
        r"(?:customers|contacts|people|users|leads|clients)",
        r"{WA} senders?",
        r"{WA} marketing (?:software|tools?|apps?|extension)",
        r"{WA} broadcast\w*",
        r"broadcast\w* (?:on |via )?{WA}",
    ),
    "pt": (
        r"(?:alcanc|atinj)\w* {G3}(?:ate |mais de )?(?:milhares|milhoes|{N}) (?:de )?(?:contatos"
        r"|clientes|pessoas|leads)",
    ),
    "es": (
        r"difusion (?:de|por|en) {WA}",
        r"(?:lleg|alcanz)\w* {G3}(?:a )?(?:hasta |mas de )?(?:miles|millones|{N}) (?:de )?"
        r"(?:contactos|clientes|personas|leads)",
    ),
    "id": (
        r"broadcast {WA}",
        r"{WA} broadcast",
        r"jangkau\w* {G3}(?:ribuan|jutaan|{N}) (?:kontak|pelanggan|orang|customer)",
    ),
    "sk": (r"oslov\w* {G3}(?:tisice|tisicky|tisickam|{N}) (?:kontaktov|zakaznik\w*|ludi)",),
}

# Access outside the official platform: no API, no approval, no verification, unofficial APIs.
# They are offers by nature, so they also overrule official-API framing elsewhere in a page.
_UNOFFICIAL_ACCESS: _Lexicon = {
    "en": (
        r"(?:no|without(?: the| an?)?) (?:official )?(?:{WA} )?(?:business )?api"
        r"(?: (?:needed|required|key))?",
        r"(?:don'?t|do not|doesn'?t|does not|no) (?:need|require)s? (?:an? |the |any )?"
        r"(?:official )?(?:{WA} )?(?:business )?(?:api|approval|verification)",
        r"no need (?:for|of) (?:an? |the |any )?(?:official )?(?:{WA} )?(?:business )?"
        r"(?:api|approval|verification|templates?)",
        r"(?:no|without) (?:(?:meta|facebook|{WA}|template|business|account) )*(?:approval"
        r"|verification|review)",
        r"(?:no|without) (?:approval|verification)(?: (?:needed|required|process))?",
        r"(?:no|without) (?:message )?templates?(?: (?:needed|required|approval))?",
        r"unofficial (?:{WA} )?(?:api|gateway|sender)",
        r"non~official (?:{WA} )?api",
        r"{WA} api \W*(?:unofficial|non~official)",
        r"(?:no|without) (?:paying )?(?:per~conversation|conversation) (?:fees?|charges?|pricing)",
        # Unofficial WhatsApp Web client libraries that gateways are built on.
        r"baileys",
        r"venom~bot",
        r"wppconnect",
        r"whatsapp~web\.js",
        r"evolution api",
        r"z-api",
        r"yowsup",
        r"wa~automate",
    ),
    "pt": (
        r"sem (?:precisar (?:de |da )?|necessidade de |usar (?:a )?)?(?:a )?api(?: oficial)?",
        r"(?:nao|sem) (?:precisa|precisar|requer|exige|necessita)\w* (?:de )?(?:a |da )?"
        r"(?:api|aprovacao|verificacao|templates?)",
        r"sem (?:aprovacao|verificacao)(?: (?:da|do|de) (?:meta|facebook|{WA}))?",
        r"sem (?:modelos|templates?)(?: aprovados)?",
        r"api nao oficial",
        r"sem (?:pagar|custo|taxa)s? (?:a meta )?por conversa",
    ),
    "es": (
        r"sin (?:necesidad de |usar )?(?:la )?api(?: oficial)?",
        r"no (?:necesitas|necesita|requiere|requieres|hace falta)\w* (?:de )?(?:la )?"
        r"(?:api|aprobacion|verificacion|plantillas)",
        r"sin (?:aprobacion|verificacion)(?: de (?:meta|facebook|{WA}))?",
        r"sin plantillas(?: aprobadas)?",
        r"api no oficial",
        r"sin (?:pagar|costo|coste)s? (?:a meta )?por conversacion",
    ),
    "id": (
        r"tanpa (?:perlu |harus |pakai )?(?:api|approval|verifikasi|persetujuan)"
        r"(?: (?:resmi|meta|facebook))?",
        r"(?:tidak|gak|nggak|ga) (?:perlu|butuh|usah) (?:api|approval|verifikasi|template)\w*",
        r"api (?:tidak resmi|unofficial|non~resmi)",
    ),
    "sk": (
        r"bez (?:potreby |nutnosti )?(?:oficialn\w* )?api",
        r"nepotrebuje\w* (?:oficialn\w* )?(?:api|schvaleni\w*|overeni\w*)",
        r"bez (?:schvaleni\w*|overeni\w*)(?: (?:od )?(?:meta|facebook\w*|{WA}))?",
        r"bez sablon",
        r"neoficialn\w* (?:{WA} )?api",
    ),
}

_AUTOMATION: _Lexicon = {
    "en": (
        r"automat(?:ed|ic) {WA} (?:sender|sending|marketing|bulk|blast\w*|campaigns?)",
        r"auto~sender",
        r"{WA} auto~sender",
        r"auto {WA} (?:sender|sending|messag\w*|blast\w*)",
        r"automatic (?:{WA} )?(?:sender|sending)",
        r"{WA} gateway",
    ),
    "pt": (
        r"envio automatico (?:de mensage\w* )?(?:no |pelo |via )?{WA}",
        r"disparos? automaticos?",
    ),
    "es": (r"envios? automaticos? (?:de mensajes )?(?:por |en |via )?{WA}",),
    "id": (r"{WA} gateway", r"gateway {WA}", r"auto~kirim (?:pesan )?(?:{WA} )?massal"),
    "sk": (r"automaticke (?:posielanie|odosielanie|rozosielanie|zasielanie)(?: sprav\w*)?",),
}

# The official apps and the Cloud API automate too (greeting messages, chatbots), and WhatsApp
# Web is logged into with a QR code: these only describe a claim already made.
_AUTOMATION_WEAK: _Lexicon = {
    "en": (
        r"{WA} (?:automation|bot|chatbot|auto~reply|auto~responder|autoresponder)",
        r"automat\w* (?:your )?{WA}",
        r"automat(?:ed|ic) {WA} messag\w*",
        r"(?:scan|scanning) (?:the |a )?qr~code",
        r"connect\w* {G3}(?:with|via|by|using) (?:a |the )?qr(?:~code)?",
        r"qr~code (?:login|session|connection)",
        r"{WA} web (?:automation|sessions?|sender|extension)",
    ),
    "pt": (
        r"(?:chatbot|bot|robo) (?:de |do |para |no |pelo )?{WA}",
        r"automa\w* (?:de |do |para |no |o |seu )?{WA}",
        r"{WA} automatico",
        r"mensage\w* automaticas",
        r"(?:leia|ler|escaneie|escanear|escaneando) (?:o )?qr~code",
        r"(?:conex|conect)\w* {G3}(?:via|por|pelo|com) (?:o )?qr(?:~code)?",
        r"envios? automaticos?",
    ),
    "es": (
        r"(?:chatbot|bot) (?:de |para |en )?{WA}",
        r"automatiza\w* (?:de |del |para |tu |el )?{WA}",
        r"{WA} automatico",
        r"mensajes automaticos",
        r"(?:escanea|escanear|escanee|escaneando) (?:el )?(?:codigo )?qr",
        r"conect\w* {G3}(?:con|por|via|mediante) (?:el )?(?:codigo )?qr",
        r"envios? automaticos?",
    ),
    "id": (
        r"(?:chatbot|bot) {WA}",
        r"{WA} (?:bot|chatbot)",
        r"auto~reply(?: {WA})?",
        r"(?:kirim|pesan|balas)\w* (?:{WA} )?otomatis",
        r"scan (?:kode )?qr",
        r"hubungkan {G3}(?:dengan|via|pakai) (?:scan )?(?:kode )?qr",
    ),
    "sk": (
        r"(?:chatbot|bot) (?:pre |na )?{WA}",
        r"automatizaci\w* (?:{WA}|sprav)",
        r"automaticke odpovede",
        r"naskenuj\w* (?:kod )?qr",
        r"pripoj\w* {G3}(?:cez|pomocou) qr",
    ),
}

_ANTI_BAN: _Lexicon = {
    "en": (
        r"anti~ban\w*",
        r"anti~block\w*",
        r"ban~free",
        r"ban~proof",
        r"block~proof",
        r"no~bans?(?!\s+(?:on|for|of|in|against)\b)",
        r"zero~bans?",
        r"never (?:get |be )?(?:banned|blocked)",
        r"no risk of (?:getting |being )?(?:banned|blocked|bans?)",
        r"(?:never|don'?t|no need to) worry about (?:getting |being )?(?:banned|blocked|bans?"
        r"|blocks?)",
        r"random(?:ized|ised)? (?:delays?|intervals?|pauses?|timing|time gaps?)",
        r"(?:sender|number|account|sim|device|phone)s? rotation",
        r"rotat\w* (?:multiple |between )?(?:senders?|numbers?|accounts?|sims?|devices?)",
        r"warm~up (?:your |new |the )?(?:numbers?|accounts?|sims?)",
        r"(?:number|account|sim)s? warm~?(?:up|ing)",
        r"safe from (?:bans?|being banned|blocking|blocks?)",
        r"bypass\w* (?:{WA}'?s? )?(?:limits|restrictions|spam filters?|detection|bans?)",
        r"undetectable",
        r"human~like (?:typing|behaviou?r|sending|delays?)",
        r"(?:typing|human|human behaviou?r) simulation",
        r"simulat\w* (?:human|typing)\w*",
        r"spintax",
        r"(?:custom |random )?(?:pauses?|delays?|intervals?) between (?:each |every |the )?"
        r"(?:messages|sends)",
    ),
    "pt": (
        r"anti~(?:ban|banimento|bloqueio|block)\w*",
        r"sem (?:risco de |medo de )?(?:bloqueios?|banimentos?|bans?|ser (?:bloqueado|banido))",
        r"nunca (?:mais )?(?:sera |seja |ser )?(?:bloqueado|banido)",
        r"sem (?:se )?preocupar com (?:bloqueios?|banimentos?)",
        r"(?:intervalos?|atrasos?|delays?|pausas?) (?:aleatori\w*|randomic\w*)",
        r"(?:rodizio|rotacao) (?:de|entre) (?:numeros|chips|contas|remetentes|linhas)",
        r"(?:aquecimento|aquecedor|maturacao|maturador) de (?:chips?|numeros?|contas?)",
        r"(?:chips?|numeros?) aquecidos?",
        r"envio humanizado",
        r"simulacao (?:de )?(?:humana|digitacao|comportamento humano)",
        r"intervalos? (?:entre|de) (?:as |os )?(?:mensagens|envios|disparos)",
    ),
    "es": (
        r"anti~(?:ban|baneo|bloqueo|bloqueos|block)\w*",
        r"sin (?:riesgo de |miedo a )?(?:bloqueos?|baneos?|bans?|ser (?:bloqueado|baneado))",
        r"nunca (?:seras |sera )?(?:bloqueado|baneado)",
        r"sin preocupar\w* (?:por|de) (?:bloqueos?|baneos?)",
        r"(?:retrasos?|intervalos?|delays?|pausas?|tiempos?) aleatori\w*",
        r"rotacion de (?:numeros|cuentas|remitentes|chips|lineas)",
        r"calentamiento de (?:numeros|cuentas|chips)",
        r"calentar (?:tus |los )?(?:numeros|cuentas)",
        r"envio humanizado",
        r"simulacion (?:humana|de escritura|de comportamiento humano)",
        r"intervalos? entre (?:los )?(?:mensajes|envios)",
    ),
    "id": (
        r"anti~(?:banned|ban|blokir|block)\w*",
        r"(?:aman|bebas) (?:dari )?(?:banned|blokir|ban|diblokir)",
        r"tanpa (?:takut |risiko |khawatir )?(?:kena )?(?:banned|blokir|ban|diblokir)",
        r"minim (?:banned|blokir)",
        r"(?:delay|jeda|interval) (?:acak|random)",
        r"rotasi (?:nomor|sender|akun)",
        r"(?:pemanasan|warming|warm~up) (?:nomor|akun)",
        r"jeda (?:waktu )?(?:acak|random|antar pesan|per pesan|pengiriman)",
        r"simulasi (?:manusia|mengetik)",
    ),
    "sk": (
        r"bez (?:rizika )?(?:zablokovani\w*|blokovani\w*|banu|banovani\w*|blokaci\w*)",
        r"ochran\w* (?:proti|pred) (?:zablokovani\w*|blokovani\w*|banom|banu)",
        r"anti~ban\w*",
        r"nahodn\w* (?:oneskoreni\w*|interval\w*|pauz\w*|casovani\w*)",
        r"rotaci\w* (?:cisel|odosielatel\w*|uctov)",
        r"zahrievani\w* (?:cisel|cisla|uctov|uctu)",
        r"interval\w* medzi (?:spravami|odoslaniami)",
        r"simulaci\w* (?:ludsk\w*|pisania)",
    ),
}

# Also the advice the platform itself gives ("to avoid being blocked, get opt-in").
_ANTI_BAN_WEAK: _Lexicon = {
    "en": (
        r"multiple (?:sender |whatsapp )?(?:numbers|senders|accounts|sims|devices)",
        r"(?:avoid|prevent|reduce|minimi[sz]e)\w* (?:the )?(?:risk of )?(?:getting |being )?"
        r"(?:bans?|banned|blocks?|blocked|blocking)",
        r"without (?:getting |being )?(?:banned|blocked)",
    ),
    "pt": (r"evit\w* (?:o |os )?(?:bloqueios?|banimentos?|bans?|ser (?:bloqueado|banido))",),
    "es": (r"evit\w* (?:el |los )?(?:bloqueos?|baneos?|bans?|ser (?:bloqueado|baneado))",),
    "id": (r"(?:hindari|menghindari|mencegah|kurangi)\w* (?:risiko )?(?:banned|blokir|diblokir)",),
    "sk": (r"(?:vyhn|zabran|predchadz)\w* (?:sa )?(?:zablokovani\w*|blokovani\w*|banu)",),
}

_UNSAVED: _Lexicon = {
    "en": (
        r"unsaved (?:phone )?(?:numbers?|contacts?)",
        r"(?:numbers?|contacts?|people) (?:that are |who are )?not (?:saved |stored |added )?"
        r"(?:in|to) (?:your )?(?:contacts?|contact list|phone~?book|address book|phone)",
        r"(?:without|no need to|never) (?:having to |needing to |the need to )?"
        r"(?:sav|add|stor)\w* (?:the |their |them |any |each )?(?:numbers?|contacts?|them)"
        r"(?: (?:to|in) (?:your )?(?:contacts?|phone~?book))?",
        r"(?:don'?t|do not) (?:need|have) to (?:save|add) (?:the |their |any )?"
        r"(?:numbers?|contacts?)",
        r"(?:numbers?|contacts?) (?:outside|not on) (?:your )?(?:contact list|contacts"
        r"|phone~?book)",
        r"non~contacts?",
    ),
    "pt": (
        r"(?:numeros?|contatos?|telefones?) nao (?:salvos?|adicionados?|agendados?"
        r"|cadastrados?|gravados?)",
        r"sem (?:precisar |necessidade de |ter que |ter de )?(?:salvar|adicionar|agendar"
        r"|cadastrar|gravar) (?:o |os |a |as |seus |nenhum )?(?:numeros?|contatos?|telefones?)",
        r"(?:numeros?|contatos?) fora (?:da|dos|de) (?:sua )?(?:agenda|contatos)",
        r"nao (?:e |eh )?(?:preciso|precisa|necessario) (?:salvar|adicionar|agendar) "
        r"(?:o |os )?(?:numeros?|contatos?)",
    ),
    "es": (
        r"(?:numeros?|contactos?|telefonos?) no (?:guardados?|agendados?|registrados?"
        r"|agregados?)",
        r"sin (?:necesidad de |tener que )?(?:guardar|agendar|agregar|anadir|registrar) "
        r"(?:el |los |la |las |tus )?(?:numeros?|contactos?|telefonos?)",
        r"no (?:necesitas|necesita|hace falta|es necesario|tienes que) (?:guardar|agendar"
        r"|agregar) (?:el |los |tus )?(?:numeros?|contactos?)",
        r"(?:numeros?|contactos?) fuera de (?:tu |la )?agenda",
    ),
    "id": (
        r"tanpa (?:perlu |harus )?(?:save|simpan|menyimpan|add|tambah|menambahkan|nyimpen) "
        r"(?:nomor|kontak|no)\w*",
        r"(?:tidak|gak|nggak|ga|tdk) (?:perlu|usah|harus) (?:save|simpan|menyimpan|add|nyimpen)"
        r" (?:nomor|kontak)\w*",
        r"nomor (?:yang )?(?:belum|tidak) (?:di~?save|disimpan|tersimpan)",
    ),
    "sk": (
        r"neulozen\w* (?:telefonn\w* )?(?:cisl\w*|kontakt\w*)",
        r"bez (?:nutnosti |potreby )?(?:ulozeni\w*|ukladani\w*|pridani\w*|pridavani\w*) "
        r"(?:cisel|cisla|kontaktov|kontaktu|do kontaktov)",
        r"(?:cisla|cisel|kontakty) (?:mimo|ktore nie su v) (?:vasich )?(?:kontaktov|kontaktoch"
        r"|zozname|zoznamu)",
        r"(?:cisla|kontakty),? ktore nemate ulozene",
        r"nemusite (?:si )?ukladat (?:cisla|kontakty)",
    ),
}

_SCRAPING: _Lexicon = {
    "en": (
        r"(?:extract|export|scrap|grab|harvest|pull|collect|download)\w* {G4}(?:{WA} )?group "
        r"(?:members?|contacts?|numbers?|participants?|phone numbers?)",
        r"(?:extract|scrap|grab|harvest|export|pull|collect)\w* {G4}(?:members?|contacts?"
        r"|numbers?|participants?) {G4}(?:from|of|in) {G3}groups?",
        r"(?:{WA} )?(?:group|contact|number|member|phone number)s? (?:extractor|scraper"
        r"|grabber|harvester|exporter)\w*",
        r"{WA} (?:scraper|extractor|grabber)\w*",
    ),
    "pt": (
        r"extra(?:tor|cao|ir|ia)\w* (?:os |todos os )?(?:de )?(?:contatos?|numeros?|membros?"
        r"|participantes?|grupos?)(?: (?:de|dos|do) grupos?)?",
        r"(?:captur|colet|pux|export|copi|extra)\w* {G4}(?:contatos?|numeros?|membros?"
        r"|participantes?) {G4}(?:de|dos|do|nos|em) grupos?",
    ),
    "es": (
        r"extract(?:or|ar|cion)\w* (?:de )?(?:los )?(?:contactos|numeros|miembros|participantes"
        r"|grupos)(?: (?:de|del|de los) grupos?)?",
        r"(?:extra|export|obten|scrape|sac|copi|captur)\w* {G4}(?:contactos|numeros|miembros"
        r"|participantes) {G4}(?:de|del|de los|en) grupos?",
    ),
    "id": (
        r"(?:grab|ambil|sedot|ekstrak|extract|scrap|export|tarik|salin|kumpul)\w* {G3}"
        r"(?:kontak|nomor|member|anggota) {G2}(?:grup|group)",
        r"(?:grabber|extractor|scraper|ekstraktor) (?:kontak|nomor|grup|group|member)",
        r"(?:kontak|nomor|member) (?:grup|group) (?:grabber|extractor|scraper)",
    ),
    "sk": (
        r"extrak\w* (?:kontakt\w*|cisel|clenov)",
        r"(?:ziska|export|stiahn|zber|zbiera|extrahova)\w* {G3}(?:kontakt\w*|cisel|cisla"
        r"|clenov) {G2}skupin\w*",
    ),
}


@dataclass(frozen=True)
class _CueFamily:
    kind: str
    pattern: re.Pattern[str]
    strong: bool
    # Unofficial by nature: outweighs official-API framing elsewhere in the document.
    unofficial: bool


_FAMILIES = (
    _CueFamily("bulk", _compile(_BULK), strong=True, unofficial=False),
    _CueFamily("bulk", _compile(_BULK_WEAK), strong=False, unofficial=False),
    _CueFamily("automation", _compile(_UNOFFICIAL_ACCESS), strong=True, unofficial=True),
    _CueFamily("automation", _compile(_AUTOMATION), strong=True, unofficial=False),
    _CueFamily("automation", _compile(_AUTOMATION_WEAK), strong=False, unofficial=False),
    _CueFamily("anti-ban", _compile(_ANTI_BAN), strong=True, unofficial=True),
    _CueFamily("anti-ban", _compile(_ANTI_BAN_WEAK), strong=False, unofficial=False),
    _CueFamily("unsaved-numbers", _compile(_UNSAVED), strong=True, unofficial=False),
    _CueFamily("scraping", _compile(_SCRAPING), strong=True, unofficial=True),
)

# ---------------------------------------------------------------------------------------------
# Channels. An offer must be about WhatsApp; "contact us on WhatsApp" under a bulk SMS offer
# does not make it one.
# ---------------------------------------------------------------------------------------------

_WHATSAPP_MENTION = re.compile(
    _expand(
        r"(?<!\w)(?:whats~?app\w*|whatsap|watsap+|whatapp|wpp|wapp|whats|zap~?zap|wsp|wasap"
        r"|guasap|(?:no|do|pelo|pro|via|de|em) zap"
        r"|wa(?= (?:blast|broadcast|gateway|bot|sender|business|marketing|massal|otomatis|api|web"
        r"|bulk|unlimited|group|grup))"
        r"|(?:blast|broadcast|pesan|nomor|kirim|akun|grup|group|bulk|mass|jasa|via|ke|di|lewat"
        r"|chat) wa)(?!\w)"
    )
)
# Alone, "zap" names WhatsApp only in Brazilian Portuguese and "WA" only in Indonesian.
_WHATSAPP_SLANG = {
    "pt": re.compile(r"(?<!\w)zap(?!\w)"),
    "id": re.compile(r"(?<!\w)wa(?!\w)"),
}
_OTHER_CHANNELS: _Lexicon = {
    "en": (
        r"sms\w*",
        r"text messag\w*",
        r"e~mails?",
        r"telegram",
        r"viber",
        r"signal app",
        r"(?:facebook )?messenger",
        r"instagram",
        r"wechat",
        r"imessage",
        r"rcs",
        r"mms",
        r"linkedin",
        r"twitter",
        r"tiktok",
        r"push notifications?",
        r"robocall\w*",
        r"voice (?:calls?|broadcast\w*)",
    ),
    "pt": (r"torpedos?", r"correio eletronico"),
    "es": (r"correos?(?: electronicos?)?",),
    "id": (r"surel",),
}
_OTHER_CHANNEL_MENTION = _compile(_OTHER_CHANNELS)
# A channel named only as a way to reach the speaker: "contact us on WhatsApp", "WhatsApp: +62".
_CONTACT_BEFORE = re.compile(
    _expand(
        r"(?:(?:contact|write|message|reach|call|chat with|talk to|text|email|ping|send) (?:us|me) "
        r"(?:your \w+ )?(?:on|via|by|at|through|over)|orders? (?:via|on|through|by)"
        r"|(?:pedidos?|encomendas?) (?:pelo|por|via|no)|pesan (?:via|lewat|melalui)"
        r"|objednavky (?:cez|na)|(?:fale|entre em contato|chama|chame|contate|fala)\w* "
        r"(?:conosco |com a gente |com )?(?:no|pelo|via|por)|(?:escribenos|contactanos|hablanos"
        r"|escribe\w*|contacta\w*) (?:por|al|via|en)|(?:hubungi|chat|kontak) (?:kami |admin |cs )?"
        r"(?:via|di|lewat|ke)|(?:napiste|kontaktujte|volajte|piste) (?:nam|nas) (?:na|cez))"
        r"\W*$"
    )
)
# Followed by a phone number, or a label ("WhatsApp:") whose value was an address, now blanked.
_CONTACT_AFTER = re.compile(r"^\s*(?::\s*$|[:\-]?\s*\+?\(?\d[\d\s().\-]{6,}\d)")

# ---------------------------------------------------------------------------------------------
# Sentence-level framing that removes a cue.
# ---------------------------------------------------------------------------------------------

# Negators before a cue, within its clause. Slovak negates verbs with a "ne" prefix; only the
# stems of verbs of offering and allowing are listed, so "neobmedzené" (unlimited) and
# "neuložené" (unsaved) stay offer words.
_NEGATORS: _Lexicon = {
    "en": (
        r"not",
        r"never",
        r"neither",
        r"nor",
        r"cannot",
        r"\w+n't",
        r"(?:do|does|did|ca|wo|is|are|was|were|have|has|should|would|could)nt",
        r"no longer",
        r"refus\w*",
    ),
    "pt": (r"nao", r"nunca", r"jamais", r"nem", r"deixamos de", r"recusamos"),
    "es": (r"nunca", r"jamas", r"ni", r"tampoco", r"dejamos de", r"nos negamos"),
    "id": (r"tidak", r"tak", r"bukan", r"belum", r"jangan", r"gak", r"nggak", r"ngga", r"tdk"),
    "sk": (
        r"nie",
        r"ani",
        r"nikdy",
        r"ne(?:ponuk|posiel|rozosiel|poskyt|predav|rob|umoz|podpor|pouziv|odosiel|moz|dovol"
        r"|smi|smu|povol|zasiel|realiz|vykon|sluz|chceme|budeme|mame|ide)\w*",
    ),
}
# Opposing what follows: "fight bulk messaging", "contra o disparo em massa", "proti hromadným".
_OPPOSITION: _Lexicon = {
    "en": (
        r"against",
        r"unlike",
        r"stop(?:ping)?",
        r"fight\w*",
        r"combat\w*",
        r"crack\w* down on",
        r"ban(?:s|ning)?",
        r"prevent\w*",
        r"prohibit\w*",
        r"report(?:ing)?",
    ),
    "pt": (
        r"contra",
        r"combat\w*",
        r"impedir",
        r"banir",
        r"proibir",
        r"denunci\w*",
        r"ao contrario",
    ),
    "es": (
        r"contra",
        r"combatir",
        r"frenar",
        r"impedir",
        r"prohibir",
        r"denunci\w*",
        r"a diferencia",
    ),
    "id": (
        r"melawan",
        r"memberantas",
        r"mencegah",
        r"memblokir",
        r"melarang",
        r"laporkan",
        r"tidak seperti",
    ),
    "sk": (
        r"proti",
        r"bojova\w*",
        r"zastavi\w*",
        r"zabrani\w*",
        r"zakaza\w*",
        r"nahlas\w*",
        r"na rozdiel",
    ),
}
# Negating determiners and prepositions ("no bulk messaging", "sin envíos masivos") reach only
# the next few words; farther away they negate something else ("no coding needed to ...").
_NEAR_NEGATORS: _Lexicon = {
    "en": (r"no", r"without", r"none", r"zero"),
    "pt": (r"sem", r"nenhum\w*"),
    "es": (r"no", r"sin", r"ningun\w*"),
    "id": (r"tanpa",),
    "sk": (r"bez", r"ziadn\w*"),
}
# Idioms with a negator that encourage rather than deny.
_ENCOURAGING_NEGATIONS: _Lexicon = {
    "en": (
        r"not (?:only|just)",
        r"(?:don'?t|do not|never|stop) (?:worry|waste|miss|hesitate|wait)\w*",
        r"no (?:worries|matter|hidden|setup|coding|code|contract|credit card|installation)\w*",
    ),
    "pt": (r"nao (?:so|apenas|somente)", r"nao (?:se preocupe|perca|hesite)\w*"),
    "es": (r"no (?:solo|solamente)", r"no (?:te preocupes|pierdas|dudes)\w*"),
    "id": (
        r"(?:tidak|bukan) (?:hanya|cuma|sekedar)",
        r"(?:tidak perlu|jangan) (?:khawatir|ribet|repot|bingung|takut|ragu|lewatkan|sampai)",
    ),
    "sk": (r"nielen", r"nemusite sa (?:obavat|bat|starat)"),
}
# Negation after the cue: "hromadné správy nie sú možné", "envíos masivos no disponibles".
_NEGATION_AFTER: _Lexicon = {
    "en": (
        r"(?:is|are|was|were) not",
        r"isn'?t",
        r"aren'?t",
        r"not (?:offered|available|supported|possible|allowed|permitted|something)",
    ),
    "pt": (r"nao (?:e|sao|esta|estao|oferec\w*|faz\w*|permitid\w*|possivel|disponivel)",),
    "es": (r"no (?:es|son|esta|estan|ofrecemos|hacemos|permitid\w*|posible|disponibles?)",),
    "id": (r"tidak (?:bisa|dapat|tersedia|diizinkan|diperbolehkan|didukung|ada|kami)",),
    "sk": (
        r"nie (?:je|su|sme)",
        r"ne(?:ponuk|posiel|rozosiel|poskyt|predav|rob|umoz|podpor|moz)\w*",
    ),
}
# Requests for a tool, with or without a question mark ("I need a bulk sender, anyone?").
_REQUESTS: _Lexicon = {
    "en": (
        r"is there (?:a|an|any)",
        r"does anyone",
        r"anyone (?:know|knows|recommend|tried|using|used|have)",
        r"can (?:anyone|someone|somebody)",
        r"how (?:do|can|to|should) (?:i|we)",
        r"i(?:'m| am) looking for",
        r"i (?:need|want|would like)",
        r"any (?:recommendations?|suggestions?|advice|ideas)",
        r"(?:please|pls) help",
        r"help me",
        r"(?:need|looking for|hiring|hire) (?:a|an) (?:freelancer|developer|expert|someone|person"
        r"|agency|vendor|provider)",
        r"(?:my|our) budget",
    ),
    "pt": (
        r"alguem (?:sabe|conhece|indica|recomenda|usa|ja usou|tem)",
        r"como (?:eu )?(?:faco|posso|consigo)",
        r"(?:eu )?preciso de (?:um|uma|algum)",
        r"(?:estou|to|tou) (?:procurando|buscando)",
        r"me ajudem",
        r"indicacao de",
        r"(?:procuro|contrato) (?:um|uma|alguem)",
    ),
    "es": (
        r"alguien (?:sabe|conoce|recomienda|usa|ha usado|tiene)",
        r"como (?:hago|puedo)",
        r"necesito (?:un|una|algun)",
        r"(?:estoy )?buscando (?:un|una|algun)",
        r"ayuda por favor",
        r"se busca",
        r"busco (?:un|una|alguien)",
    ),
    "id": (
        r"ada yang (?:tahu|tau|punya|pakai|pake|bisa|recommend|rekomendasi|jual)",
        r"(?:gimana|bagaimana|gmn|gmana) cara",
        r"mau tanya",
        r"minta (?:saran|rekomendasi|info)",
        r"(?:saya|aku|gue|gw) (?:cari|butuh|perlu|mencari|lagi cari)",
        r"mohon (?:bantuan|info|saran|pencerahan)",
        r"dicari",
        r"butuh (?:orang|freelancer|jasa|vendor)",
    ),
    "sk": (
        r"vie (?:niekto|nieco|mi niekto)",
        r"poradi (?:niekto|mi)",
        r"ako (?:mozem|to urobit|sa da)",
        r"hladam",
        r"potrebujem",
        r"mate (?:niekto|niekto skusenost)",
        r"existuje (?:nejak\w*)",
    ),
}
# Reported speech and news framing: the speaker describes someone else's offer.
_REPORTING: _Lexicon = {
    "en": (
        r"said",
        r"says",
        r"told",
        r"reported(?:ly)?",
        r"according to",
        r"claim(?:s|ed)? (?:that|to)",
        r"alleg\w*",
        r"advertis(?:ed|es)",
        r"promised",
        r"touted",
        r"marketed",
        r"offered",
        r"sold",
        r"(?:allowed|enabled|let) (?:its )?(?:users|customers|clients|people)",
        r"sue[sd]?",
        r"lawsuit\w*",
        r"courts?",
        r"judge\w*",
        r"complaint",
        r"police",
        r"arrest\w*",
        r"prosecut\w*",
        r"investigat\w*",
        r"accused",
        r"convicted",
        r"fined",
        r"reuters",
        r"journalists?",
        r"reporters?",
        r"spokes(?:person|man|woman)",
        r"in a statement",
        r"(?:experts?|analysts?|researchers?) (?:say|said|warn\w*)",
        r"interview\w*",
        r"(?:the|a|that) (?:company|firm|startup|vendor|website|site) (?:\w+ )?(?:offers"
        r"|sells|promises|advertises|claims|lets|allows|provides)",
        # Third parties in the plural, described: "dozens of small firms sell ...".
        r"(?:some|many|several|dozens of|hundreds of|these|such|other) {G3}(?:firms|companies"
        r"|agencies|vendors|providers|sellers|businesses|sites|websites) {G2}(?:sell|offer"
        r"|advertise|promise|provide|use|charge)",
    ),
    "pt": (
        r"disse",
        r"dizem",
        r"diz que",
        r"afirm(?:ou|a que|am que)",
        r"prometem?",
        r"(?:especialistas|analistas|pesquisadores)",
        r"(?:uma|algumas|varias|muitas) (?:das |dessas )?empresas",
        r"declarou",
        r"relatou",
        r"informou",
        r"segundo (?:a|o|os|as|fontes|dados)",
        r"de acordo com",
        r"alegou",
        r"anunciav\w*",
        r"prometi(?:a|am)",
        r"oferec(?:ia|iam|eu)",
        r"vendi(?:a|am)",
        r"vendeu",
        r"permitia\w*",
        r"process(?:ou|ad\w*)",
        r"acao judicial",
        r"tribunal",
        r"justica",
        r"juiz\w*",
        r"policia\w*",
        r"pres[oa]s?",
        r"investigac\w*",
        r"denuncia\w*",
        r"acusad\w*",
        r"reportagem",
        r"jornalist\w*",
        r"porta~voz",
        r"em nota",
        r"entrevista\w*",
        r"(?:a|essa|esta) empresa (?:\w+ )?(?:oferece|vende|promete|anuncia|permite)",
        r"(?:empresas|agencias|fornecedores|vendedores|sites) {G4}(?:vendem|oferecem|anunciam"
        r"|prometem|cobram)",
        r"(?:os|esses|estes|tais) (?:sistemas|programas|softwares|aplicativos|robos) (?:usam"
        r"|utilizam|permitem|enviam|conseguem)",
    ),
    "es": (
        r"dijo",
        r"dicen",
        r"dice que",
        r"afirm(?:o|a que|an que)",
        r"(?:expertos|analistas|investigadores)",
        r"(?:una|algunas|varias|muchas) (?:de las |de esas )?empresas",
        r"declaro",
        r"informo",
        r"segun (?:el|la|los|las|fuentes|datos)",
        r"de acuerdo con",
        r"alego",
        r"anunciab\w*",
        r"prometi(?:a|an)",
        r"ofreci(?:a|an|o)",
        r"vendi(?:a|an|o)",
        r"permitia\w*",
        r"demand(?:o|ada|ado)",
        r"demanda (?:judicial|contra)",
        r"tribunal",
        r"juez\w*",
        r"policia\w*",
        r"detenid\w*",
        r"investigac\w*",
        r"denuncia\w*",
        r"acusad\w*",
        r"reportaje",
        r"periodist\w*",
        r"portavoz",
        r"comunicado",
        r"entrevista\w*",
        r"(?:la|esa|esta) empresa (?:\w+ )?(?:ofrece|vende|promete|anuncia|permite)",
        r"(?:empresas|agencias|proveedores|vendedores|sitios) {G4}(?:venden|ofrecen|anuncian"
        r"|prometen|cobran)",
        r"(?:los|estos|esos|tales) (?:sistemas|programas|paquetes|aplicaciones) (?:usan|utilizan"
        r"|incluyen|permiten|envian)",
    ),
    "id": (
        r"mengatakan",
        r"katanya",
        r"kata (?:dia|beliau)",
        r"ujar\w*",
        r"ungkap\w*",
        r"menurut",
        r"dilaporkan",
        r"melaporkan",
        r"mengklaim",
        r"diklaim",
        r"diduga",
        r"(?:pengamat|peneliti|pakar)",
        r"(?:salah satu|beberapa|banyak) perusahaan",
        r"gugatan",
        r"menggugat",
        r"digugat",
        r"pengadilan",
        r"hakim",
        r"polisi",
        r"polda",
        r"polres",
        r"ditangkap",
        r"tersangka",
        r"pelaku(?! usaha| bisnis| umkm| ukm)",
        r"penyelidikan",
        r"penyidik\w*",
        r"wartawan",
        r"juru bicara",
        r"keterangan (?:resmi|tertulis|pers)",
        r"wawancara",
        r"perusahaan (?:itu|tersebut)",
        r"(?:sejumlah|beberapa|banyak|para) {G2}(?:penyedia|perusahaan|agen|penjual|vendor|oknum)"
        r"\w* {G2}(?:menawarkan|menjual|mempromosikan|menggunakan)",
        r"(?:aplikasi|software|alat) yang (?:digunakan|dipakai)",
    ),
    "sk": (
        r"povedal\w*",
        r"uviedl\w*",
        r"tvrdi\w*",
        r"(?:odbornici|analytici|vyskumnici)",
        r"(?:jedna|niektore|viacere|mnohe) (?:z )?(?:firiem|firmy|spolocnosti)",
        r"informoval\w*",
        r"oznamil\w*",
        r"podla (?:spravy|informacii|policie|sudu|hovorcu|neho|nej|nich|firmy|spolocnosti"
        r"|meta|whatsappu|agentury)",
        r"ponukal\w*",
        r"predaval\w*",
        r"slubova\w*",
        r"inzeroval\w*",
        r"umoznoval\w*",
        r"zalob\w*",
        r"zaloval\w*",
        r"sud",
        r"sude",
        r"sudu",
        r"sudca",
        r"polici\w*",
        r"vysetrov\w*",
        r"obvinen\w*",
        r"zadrzan\w*",
        r"hovorc\w*",
        r"stanovisk\w*",
        r"rozhovor\w*",
        r"tasr",
        r"(?:firma|spolocnost) (?:\w+ )?(?:ponuka|predava|sluzuje|inzeruje)",
        r"(?:niektore|viacere|mnohe|tieto|take|dalsie) {G2}(?:agentury|firmy|spolocnosti|sluzby"
        r"|weby) {G2}(?:ponukaju|predavaju|inzeruju|pouzivaju)",
    ),
}
# Prohibitions and enforcement: the platform's rules and copies of them.
_PROHIBITIONS: _Lexicon = {
    "en": (
        r"prohibit\w*",
        r"forbid\w*",
        r"not (?:allowed|permitted|authori[sz]ed)",
        r"must not",
        r"may not be used",
        r"violat\w*",
        r"against (?:our|the|{WA}'?s?) (?:terms|policies|policy|rules)",
        r"unauthori[sz]ed",
        r"abus\w*",
        r"bann?(?:ed|s|ing)? (?:\d[\d,.]*|millions of|thousands of|accounts|users|numbers)",
        r"(?:we|will|may) (?:ban|block|suspend|restrict|terminate|disable)\w*",
        r"legal action",
        r"take action against",
        r"enforce\w*",
        r"identif\w* (?:\w+ ){0,2}accounts",
        r"accounts? (?:that|which|who) (?:send|sends|engage|use)\w*",
    ),
    "pt": (
        r"proib\w*",
        r"nao (?:e |sao )?permitid\w*",
        r"viol(?:a|am|ou|ar|acao|acoes|ando)",
        r"nao autorizad\w*",
        r"abus\w*",
        r"banir contas",
        r"acao judicial",
        r"medidas (?:legais|judiciais)",
    ),
    "es": (
        r"prohib\w*",
        r"no (?:esta |estan )?permitid\w*",
        r"viol(?:a|an|o|ar|acion|aciones|ando)",
        r"no autorizad\w*",
        r"abus\w*",
        r"acciones legales",
        r"accion legal",
    ),
    "id": (
        r"dilarang",
        r"melarang",
        r"mengidentifikasi",
        r"(?:memblokir|blokir|menonaktifkan|membekukan) (?:\w+ )?akun",
        r"akun (?:yang|tersebut) (?:mengirim|melanggar)\w*",
        r"larangan",
        r"melanggar",
        r"pelanggaran",
        r"tidak (?:diizinkan|diperbolehkan)",
        r"tanpa izin",
        r"tindakan hukum",
    ),
    "sk": (
        r"zakaz(?:uj\w*|an\w*|al\w*|ov\w*|u|om|y)?",
        r"nie (?:je|su) povolen\w*",
        r"nepovolen\w*",
        r"porus\w*",
        r"neopravnen\w*",
        r"zneuziv\w*",
        r"pravne kroky",
    ),
}
# References to terms and policies. In a cue's sentence they mean the platform's rules are being
# discussed; across a page they are only footer links, so they do not count towards its voice.
_POLICY_REFERENCES: _Lexicon = {
    "en": (
        r"terms of (?:service|use)",
        r"(?:business|commerce|messaging|acceptable use) polic(?:y|ies)",
        r"detect\w*",
    ),
    "pt": (r"termos de (?:servico|uso)", r"politicas? (?:do|de|comerciais)"),
    "es": (r"terminos de (?:servicio|uso)", r"politicas? de"),
    "id": (r"ketentuan (?:layanan|penggunaan)", r"kebijakan"),
    "sk": (r"podmienk\w* (?:pouzivania|sluzby|sluzieb)", r"zasad\w*"),
}
# Warnings and third-person descriptions of such tools.
_WARNING: _Lexicon = {
    "en": (
        r"beware",
        r"warning",
        r"caution",
        r"scam\w*",
        r"be careful",
        r"stay away",
        r"(?:don'?t|do not|never) use",
        r"avoid (?:using|these|such|unofficial|third~party)",
        r"(?:these|such|those|some|many) (?:tools?|apps?|services?|vendors?|companies|programs?"
        r"|software|extensions?|sites?|websites?|providers?|sellers?)",
        r"(?:will|can|could|may|might|would) (?:get|be) (?:you |your (?:number|account|phone) )?"
        r"(?:permanently |temporarily )?(?:banned|blocked|suspended)",
        r"get (?:you|your \w+) (?:banned|blocked|suspended)",
        r"risk (?:of )?(?:getting |having )?(?:your \w+ )?(?:banned|blocked|ban|suspension)",
        r"spammers?",
        r"they (?:use|offer|promise|claim|sell)",
        r"is (?:a|the) (?:practice|term|technique)",
        r"refers to",
        r"is defined as",
    ),
    "pt": (
        r"cuidado",
        r"atencao",
        r"golpe\w*",
        r"fique longe",
        r"(?:nao|nunca) use",
        r"evite (?:usar|essas|esses|ferramentas)",
        r"(?:essas|estas|tais|algumas|muitas) (?:ferramentas|empresas|aplicativos|apps"
        r"|solucoes)",
        r"pode(?:m)? (?:ser )?(?:banid|bloquead)\w*",
        r"risco de (?:ser |ter )?(?:banid|bloquead|banimento|bloqueio)\w*",
        r"refere~se a",
    ),
    "es": (
        r"cuidado",
        r"atencion",
        r"estafa\w*",
        r"(?:no|nunca) uses",
        r"evita (?:usar|estas|estos|herramientas)",
        r"(?:estas|esas|tales|algunas|muchas) (?:herramientas|empresas|aplicaciones|apps)",
        r"pued(?:e|en) (?:ser )?(?:banead|bloquead)\w*",
        r"riesgo de (?:ser )?(?:banead|bloquead|baneo|bloqueo)\w*",
        r"se refiere a",
    ),
    "id": (
        r"hati~hati",
        r"waspada\w*",
        r"penipuan",
        r"jangan (?:gunakan|pakai|menggunakan)",
        r"hindari",
        r"(?:alat|aplikasi|tools?) (?:seperti ini|tersebut|semacam ini)",
        r"bisa (?:kena )?(?:banned|blokir|diblokir)",
        r"risiko (?:kena )?(?:banned|blokir|diblokir)",
    ),
    "sk": (
        r"pozor",
        r"varovan\w*",
        r"podvod\w*",
        r"nepouzivajte",
        r"vyhnite sa",
        r"(?:tieto|take|niektore|mnohe) (?:nastroje|aplikacie|sluzby|firmy|spolocnosti)",
        r"moze (?:byt|vam) (?:zablokovan|zablokuj)\w*",
        r"riziko (?:zablokovania|banu)",
    ),
}
# First-hand experience, not an offer: "I used X and my number got banned".
_EXPERIENCE = re.compile(
    _expand(
        r"(?<!\w)(?:(?:i|eu|yo|saya|aku|gue|gw|ja) (?:use|used|tried|have been using|uso|usei"
        r"|utilizo|use|pakai|pake|menggunakan|coba|pouzivam|skusal)|my (?:number|account|phone)"
        r" (?:got|was|has been))(?!\w)"
    )
)
# The official Business Platform: approved templates, opt-in, the Cloud API, partners.
_OFFICIAL: _Lexicon = {
    "en": (
        r"official (?:{WA} |meta )?(?:business )?(?:api|solution|partner|provider)",
        r"{WA} business (?:platform|api)",
        r"cloud api",
        r"on~premises api",
        r"(?:message|approved|pre~approved) templates?",
        r"template (?:messages?|approval)",
        r"opt~ins?",
        r"opted~in",
        r"business solution providers?",
        r"bsps?",
        r"meta (?:business )?partners?",
        r"(?:verified|official) (?:business )?(?:accounts?|badge|partners?)",
        r"green tick",
        r"conversation~based pricing",
        r"broadcast lists?",
        r"per~conversation",
        r"graph api",
    ),
    "pt": (
        r"api oficial",
        r"(?:parceiro|provedor|solucao|plataforma|canal) oficial",
        r"oficial (?:da|do) (?:meta|{WA})",
        r"(?:modelos|templates) aprovados",
        r"aprovacao (?:de|dos) (?:modelos|templates)",
        r"conta (?:comercial )?verificada",
        r"selo verde",
        r"listas? de transmissao",
        r"consentimento",
    ),
    "es": (
        r"api oficial",
        r"(?:proveedor|socio|solucion|plataforma|canal) oficial",
        r"oficial de (?:meta|{WA})",
        r"plantillas aprobadas",
        r"aprobacion de plantillas",
        r"cuenta verificada",
        r"insignia verde",
        r"listas? de difusion",
        r"consentimiento",
    ),
    "id": (
        r"api resmi",
        r"mitra resmi",
        r"template (?:yang )?disetujui",
        r"persetujuan template",
        r"centang hijau",
        r"daftar siaran",
        r"akun (?:bisnis )?terverifikasi",
    ),
    "sk": (
        r"oficialn\w* api",
        r"api oficialn\w*",
        r"schvalen\w* sablon\w*",
        r"schvalenie sablon",
        r"overen\w* (?:ucet|firma|firmy)",
        r"oficialn\w* partner\w*",
        r"zoznam\w* (?:na|pre) rozosielanie",
        r"suhlas\w* (?:so zasielanim|zakaznik\w*|prijemc\w*)",
    ),
}

# ---------------------------------------------------------------------------------------------
# Document voice: who is speaking.
# ---------------------------------------------------------------------------------------------

# Calls to action and plans: somebody is selling.
_CALLS_TO_ACTION: _Lexicon = {
    "en": (
        r"buy(?: now| today)?",
        r"order (?:now|today)",
        r"subscribe",
        r"sign up",
        r"register (?:now|today|free)",
        r"get started",
        r"free trial",
        r"try (?:it )?(?:for )?free",
        r"try (?:it )?now",
        r"download (?:now|free|the app)",
        r"contact us",
        r"call us",
        r"call now",
        r"write to",
        r"{WA} us",
        r"chat with us",
        r"(?:book|request) a demo",
        r"get a quote",
        r"pricing",
        r"per month",
        r"add to cart",
        r"you can (?:send|reach|message|blast|grow|automate)",
        r"your (?:business|company|customers|clients|campaigns?)",
    ),
    "pt": (
        r"compre",
        r"comprar",
        r"assine",
        r"assinar",
        r"teste (?:gratis|gratuito)",
        r"fale conosco",
        r"contrate",
        r"planos",
        r"por mes",
        r"baixe",
        r"garanta",
        r"experimente",
        r"(?:sua|seu) (?:empresa|negocio|loja)",
        r"fale com (?:um|uma|nosso|nossa|a gente)",
        r"voce (?:pode|consegue)",
    ),
    "es": (
        r"compra (?:ya|ahora)",
        r"comprar",
        r"suscribete",
        r"prueba gratis",
        r"contactanos",
        r"escribenos",
        r"contrata",
        r"planes",
        r"al mes",
        r"descarga",
        r"cotiza",
        r"tu (?:empresa|negocio|tienda)",
        r"(?:puedes|podras) (?:enviar|llegar|automatizar)",
    ),
    "id": (
        r"beli",
        r"order sekarang",
        r"pesan sekarang",
        r"daftar(?: sekarang)?",
        r"harga",
        r"paket",
        r"gratis",
        r"hubungi (?:kami|admin|cs)",
        r"per bulan",
        r"promo",
        r"diskon",
        r"bisnis (?:anda|kamu)",
    ),
    "sk": (
        r"kupit",
        r"objednat",
        r"objednajte",
        r"cena",
        r"cennik",
        r"mesacne",
        r"za mesiac",
        r"kontaktujte nas",
        r"vyskusajte",
        r"zdarma",
        r"zavolajte",
        r"napiste nam",
        r"(?:vasu|vasej|vasa) (?:firm\w*|spolocnost\w*|biznis\w*)",
        r"pre vas",
    ),
}
# The speaker offering its own product. In a document that otherwise reports, warns or asks,
# only a cue in such a sentence counts ("we offer", "nossa ferramenta", "kami menyediakan").
_SELF_OFFERS: _Lexicon = {
    "en": (
        r"we(?:'re| are)? (?:offer|provide|sell|deliver|guarantee|support|have|build|develop"
        r"|help you|can help|specialize|specialise)\w*",
        r"our (?:tool|software|app|service|platform|sender|system|plans?|solution|extension"
        r"|product|package|bot|gateway|panel|api|engine|feature)s?",
        r"ours",
    ),
    "pt": (
        r"(?:oferecemos|fornecemos|vendemos|temos|disponibilizamos|entregamos|garantimos)",
        r"(?:nosso|nossa)s? (?:sistema|software|aplicativo|app|servico|disparador|plano"
        r"|ferramenta|plataforma|solucao|extensao|robo|bot|painel|api|pacote)s?",
    ),
    "es": (
        r"(?:ofrecemos|brindamos|vendemos|tenemos|garantizamos|proveemos)",
        r"(?:nuestro|nuestra)s? (?:sistema|software|servicio|plan|herramienta|plataforma"
        r"|solucion|aplicacion|bot|panel|api|paquete)\w*",
    ),
    "id": (
        r"kami (?:menyediakan|menawarkan|memberikan|jual|menjual|melayani|hadir|punya|siap)",
        r"(?:layanan|aplikasi|jasa|sistem|tools?|paket) kami",
    ),
    "sk": (
        r"(?:ponukame|poskytujeme|predavame|mame|zabezpecime|garantujeme)",
        r"(?:nasa|nas|nasu|nase) (?:sluzb\w*|aplikaci\w*|platform\w*|nastroj|system|softver"
        r"|riesen\w*|balik\w*)",
    ),
}
_PRICE = re.compile(
    r"(?:[$€£]|r\$|\brp\.?|\b(?:usd|eur|idr|brl|mxn|cop|ars|clp|pen)\b)\s?\d"
    r"|(?<![\d.,])\d(?:[\d.,]*\d)?\s?(?:€|\$|\b(?:eur|euros?|usd|reais|dolares|rupiah)\b)"
)
_SELF_OFFER_RX = _compile(_SELF_OFFERS)
# Second person, product nouns, guarantees, imperatives: a sentence that sells.
_OFFER_FRAME: _Lexicon = {
    "en": (
        r"you",
        r"your",
        r"we",
        r"our",
        r"sender\w*",
        r"tools?",
        r"software",
        r"apps?",
        r"extension",
        r"plugin",
        r"services?",
        r"platform",
        r"bot",
        r"gateway",
        r"panel",
        r"dashboard",
        r"solution",
        r"package",
        r"plans?",
        r"guarantee\w*",
    ),
    "pt": (
        r"voce",
        r"(?:seu|sua|seus|suas)",
        r"nosso\w*",
        r"nossa\w*",
        r"ferramenta",
        r"sistema",
        r"aplicativo",
        r"extensao",
        r"plataforma",
        r"servico",
        r"solucao",
        r"painel",
        r"planos?",
        r"garantid\w*",
    ),
    "es": (
        r"tu",
        r"tus",
        r"usted",
        r"nuestr\w*",
        r"herramienta",
        r"sistema",
        r"aplicacion",
        r"plataforma",
        r"servicio",
        r"solucion",
        r"planes?",
        r"garantizad\w*",
    ),
    "id": (
        r"anda",
        r"kamu",
        r"kami",
        r"jasa",
        r"layanan",
        r"aplikasi",
        r"fitur",
        r"sistem",
        r"dijamin",
    ),
    "sk": (
        r"vas\w*",
        r"vam",
        r"vy",
        r"nas\w*",
        r"nastroj\w*",
        r"sluzb\w*",
        r"aplikaci\w*",
        r"softver",
        r"system",
        r"garantovan\w*",
    ),
}
# Imperatives that open a sentence or clause: "Send to thousands", "Dispare agora".
_IMPERATIVES: _Lexicon = {
    "en": (r"send|reach|grow|boost|automate|try|get|start|blast|scale|buy|use|import|upload",),
    "pt": (r"envie|dispare|alcance|automatize|teste|compre|aumente|venda|conecte|importe",),
    "es": (r"envia|envie|manda|llega|automatiza|prueba|compra|aumenta|vende|conecta|importa",),
    "id": (r"kirim|jangkau|coba|dapatkan|tingkatkan|hubungkan|import",),
    "sk": (r"poslite|oslovte|posielajte|vyskusajte|ziskajte|pripojte|importujte",),
}
_NEWS_DOC: _Lexicon = {
    "en": (
        r"\((?:reuters|ap|afp|bloomberg)\)",
        r"associated press",
        r"agence france",
        r"techcrunch",
        r"the verge",
    ),
    "pt": (r"agencia brasil", r"folha", r"estadao", r"\(lusa\)", r"g1"),
    "es": (r"\(efe\)", r"el pais", r"europa press"),
    "id": (r"kompas\.com", r"detik\w*", r"tempo\.co", r"antara", r"cnn indonesia"),
    "sk": (r"\(tasr\)", r"aktuality", r"dennik n", r"sme\.sk"),
}
_ACADEMIC: _Lexicon = {
    "en": (
        r"abstract",
        r"keywords",
        r"this (?:paper|study|article|thesis)",
        r"we (?:propose|analy[sz]e|investigate|examine|study|collected|find|found)",
        r"our (?:findings|results|analysis|dataset)",
        r"et al",
        r"methodology",
        r"dataset",
        r"references",
        r"doi",
        r"universit\w*",
        r"journal",
    ),
    "pt": (
        r"resumo",
        r"palavras~chave",
        r"este (?:artigo|estudo|trabalho)",
        r"metodologia",
        r"(?:esta|nesta) pesquisa",
        r"universidade",
    ),
    "es": (
        r"resumen",
        r"palabras clave",
        r"este (?:articulo|estudio|trabajo)",
        r"metodologia",
        r"investigacion",
        r"universidad",
    ),
    "id": (
        r"abstrak",
        r"kata kunci",
        r"penelitian",
        r"jurnal",
        r"metode penelitian",
        r"universitas",
    ),
    "sk": (
        r"abstrakt",
        r"klucove slova",
        r"(?:tato|tejto) (?:praca|praci|studia|studii)",
        r"vyskum\w*",
        r"metodologi\w*",
        r"univerzit\w*",
    ),
}
_JOB: _Lexicon = {
    "en": (
        r"we(?:'re| are) hiring",
        r"job (?:description|title|type|opening)",
        r"vacanc\w*",
        r"apply (?:now|here|today)",
        r"responsibilities",
        r"requirements",
        r"qualifications",
        r"salary",
        r"full~time",
        r"part~time",
        r"(?:send|submit) (?:your )?(?:cv|resume)",
        r"freelancers?",
        r"budget",
        r"must have experience",
    ),
    "pt": (r"vagas?", r"requisitos", r"responsabilidades", r"salario", r"curriculo"),
    "es": (r"vacantes?", r"requisitos", r"sueldo", r"salario", r"postulate", r"postulacion"),
    "id": (r"lowongan", r"kualifikasi", r"persyaratan", r"gaji", r"lamar\w*", r"pelamar"),
    "sk": (
        r"pracovn\w* ponuk\w*",
        r"poziadavky",
        r"napln prace",
        r"plat",
        r"zivotopis",
        r"uchadzac\w*",
    ),
}
# Reviews and rankings of other people's tools: the reviewer sells nothing.
_REVIEW: _Lexicon = {
    "en": (
        r"top \d+",
        r"\d+ best",
        r"best \w+ (?:\w+ )?(?:tools|apps|software|senders|alternatives) (?:in|for|of) 20\d\d",
        r"pros",
        r"cons",
        r"alternatives?",
        r"(?:our|the) verdict",
        r"we tested",
        r"compared",
    ),
    "pt": (
        r"\d+ melhores",
        r"melhores \w+ (?:de|para) 20\d\d",
        r"pros e contras",
        r"(?:des)?vantagens",
        r"comparativo",
    ),
    "es": (
        r"\d+ mejores",
        r"mejores \w+ (?:de|para) 20\d\d",
        r"pros y contras",
        r"(?:des)?ventajas",
        r"comparativa",
    ),
    "id": (
        r"kelebihan",
        r"kekurangan",
        r"kesimpulan",
        r"\d+ (?:aplikasi|tools) {G3}terbaik",
        r"ulasan",
    ),
    "sk": (r"\d+ najlepsi\w*", r"(?:ne)?vyhody", r"recenzi\w*", r"porovnani\w*"),
}
# Mobile plans: "WhatsApp ilimitado", "unlimited WhatsApp" is zero-rated data, not sending.
_TELECOM: _Lexicon = {
    "en": (
        r"\d+ ?gb",
        r"data (?:plan|allowance|bundle|pass)",
        r"mobile data",
        r"roaming",
        r"e-?sim",
        r"prepaid",
        r"postpaid",
        r"top~up",
        r"unlimited (?:calls|minutes|data|talk)",
        r"social (?:pass|bundle|media pack)",
        r"zero~rated",
        r"without using (?:your )?data",
    ),
    "pt": (
        r"gigas?",
        r"(?:plano|pacote) de (?:dados|internet)",
        r"dados moveis",
        r"internet movel",
        r"pre~pago",
        r"pos~pago",
        r"recarga",
        r"operadora",
        r"(?:ligacoes|minutos) ilimitad\w*",
        r"redes sociais ilimitadas",
        r"{WA} ilimitado",
        r"(?:sem descontar|nao desconta)\w*",
    ),
    "es": (
        r"(?:plan|paquete) de (?:datos|internet)",
        r"datos moviles",
        r"prepago",
        r"pospago",
        r"recarga\w*",
        r"(?:llamadas|minutos) ilimitad\w*",
        r"redes sociales ilimitadas",
        r"{WA} ilimitado",
        r"sin (?:consumir|gastar|descontar) (?:tus )?(?:datos|megas|saldo)",
        r"megas",
    ),
    "id": (r"kuota", r"paket (?:data|internet)", r"pulsa", r"prabayar", r"pascabayar"),
    "sk": (r"mobiln\w* dat\w*", r"predplaten\w* kart\w*", r"roaming", r"volania"),
}
_FORUM: _Lexicon = {
    "en": (
        r"thanks in advance",
        r"thx",
        r"replies",
        r"reply",
        r"posted",
        r"upvote\w*",
        r"thread",
        r"op",
    ),
    "pt": (r"obrigad\w* desde ja", r"valeu", r"alguem"),
    "es": (r"gracias de antemano", r"alguien"),
    "id": (r"makasih", r"terima kasih sebelumnya", r"gan", r"suhu"),
    "sk": (r"vopred (?:dakujem|vdaka)", r"niekto"),
}
# Single-chat helpers ("open a chat without saving the number") are not bulk tools.
_SINGLE_CHAT = _compile(
    (
        r"wa\.me",
        r"click~to~chat",
        r"direct chat",
        r"open (?:a |the )?(?:{WA} )?chat",
        r"abrir (?:uma |un )?(?:conversa|chat)",
        r"chat (?:directo|direto|langsung)",
        r"buka chat",
    )
)
# Guides are titled like questions: "How to send bulk WhatsApp without getting banned".
_HOW_TO = re.compile(
    r"\W*(?:how to|como \w+(?:ar|er|ir|or)|(?:bagaimana )?cara|ako \w+t)\b", re.IGNORECASE
)
_QUESTION_AFFIRMED = re.compile(
    _expand(
        r"^\W*(?:yes|yep|sure|of course|absolutely|definitely|sim|claro|com certeza|si"
        r"|por supuesto|ya|bisa|tentu|ano|samozrejme|urcite)(?!\w)"
    )
)
_RHETORICAL = _compile(
    (
        r"want to",
        r"need to",
        r"looking for",
        r"tired of",
        r"quer",
        r"precisa",
        r"procura",
        r"quieres",
        r"necesitas",
        r"buscas",
        r"ingin",
        r"mau",
        r"butuh",
        r"cari",
        r"chcete",
        r"potrebujete",
        r"hladate",
    )
)

# Words that negate in one language and mean something else in another: Portuguese "no" is
# "in the" ("disparo no zap"), Slovak "tak" is "so", Indonesian "ni" is "this".
_LANGUAGE_BOUND = {"no": ("en", "es"), "tak": ("id",), "ni": ("es",)}


def _for_language(lexicon: _Lexicon, lang: str) -> _Lexicon:
    return {
        key: tuple(p for p in phrases if lang in _LANGUAGE_BOUND.get(p, _LANGS))
        for key, phrases in lexicon.items()
    }


_NEGATOR = {lang: _compile(_for_language(_NEGATORS, lang)) for lang in _LANGS}
_NEAR_NEGATOR = {
    lang: _compile(_for_language(_NEAR_NEGATORS, lang), _OPPOSITION) for lang in _LANGS
}
# Frequent function words, to tell which language a document is mostly in.
_FUNCTION_WORDS = {
    "en": frozenset(("the", "and", "to", "of", "with", "for", "your", "our", "you", "is", "are")),
    "pt": frozenset(("nao", "com", "uma", "em", "ao", "dos", "das", "pelo", "pela", "voce", "seu")),
    "es": frozenset(("el", "los", "las", "del", "con", "una", "y", "es", "por", "su", "tu", "tus")),
    "id": frozenset(("yang", "dan", "di", "ke", "dari", "untuk", "dengan", "ini", "itu", "anda")),
    "sk": frozenset(("a", "je", "na", "sa", "pre", "s", "v", "z", "zo", "ako", "aj", "su", "cez")),
}


def _language(clean: str) -> str:
    counts = dict.fromkeys(_LANGS, 0)
    for token in re.findall(r"[a-z]+", clean):
        for lang, words in _FUNCTION_WORDS.items():
            if token in words:
                counts[lang] += 1
    return max(_LANGS, key=lambda lang: counts[lang])


_ENCOURAGING = _compile(_ENCOURAGING_NEGATIONS)
_NEG_AFTER = _compile(_NEGATION_AFTER)
_REQUEST = _compile(_REQUESTS)
_REPORT = _compile(_REPORTING)
_POLICY_RX = _compile(_PROHIBITIONS, _POLICY_REFERENCES)
_PROHIBITION_RX = _compile(_PROHIBITIONS)
_WARNING_RX = _compile(_WARNING)
_OFFICIAL_RX = _compile(_OFFICIAL)
_COMMERCIAL_RX = _compile(_CALLS_TO_ACTION, _SELF_OFFERS)
_FRAME_RX = _compile(_OFFER_FRAME)
_IMPERATIVE_RX = re.compile(
    r"(?:^|[:;!?•|–—-])\W*(?:"
    + "|".join(p for lang in _LANGS for p in _IMPERATIVES[lang])
    + r")(?!\w)"
)
_NEWS_RX = _compile(_NEWS_DOC)
_ACADEMIC_RX = _compile(_ACADEMIC)
_JOB_RX = _compile(_JOB)
_FORUM_RX = _compile(_FORUM)
_REVIEW_RX = _compile(_REVIEW)
_TELECOM_RX = _compile(_TELECOM)
# "BRATISLAVA -", "SAO PAULO —", "JAKARTA, KOMPAS.com -": an all-caps dateline opening a line.
_DATELINE = re.compile(r"(?m)^[A-ZÀ-Ý][A-ZÀ-Ý .]{2,30}(?:,[^\n\-–—]{2,30})?\s[-–—]\s")

_FAQ = _compile(
    (
        r"faqs?",
        r"frequently asked questions",
        r"perguntas frequentes",
        r"preguntas frecuentes",
        r"pertanyaan (?:yang sering|umum)",
        r"casto kladene otazky",
    )
)
_BYLINE = re.compile(r"(?m)^(?:By|Por|Oleh|Autor|Autorka|Reporter|Penulis):? [A-Z]\w+ [A-Z]\w+")

# ---------------------------------------------------------------------------------------------
# The folded view of the input, with offsets back into it.
# ---------------------------------------------------------------------------------------------

# Quote-like and Markdown characters normalised so patterns see words, not decoration.
_CHAR_REPLACEMENTS = {"’": "'", "‘": "'", "`": " ", "*": " ", "_": " ", "\u00a0": " "}
# Each alternative may start only where a word starts, so a long run of letters is read once.
_URL_OR_EMAIL = re.compile(
    r"(?<![\w./:+-])(?:https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|app|me|info|biz|co|br|es|mx|id|sk|ar|cl|pe)"
    r"(?:/\S*)?\b)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r'"[^"\n]{2,400}"|“[^”\n]{2,400}”|„[^“”\n]{2,400}[“”]|«[^»\n]{2,400}»')
_SINGLE_QUOTED = re.compile(r"(?<!\w)'[^'\n]{2,200}'(?!\w)")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(_CHAR_REPLACEMENTS.get(char, char))


@dataclass(frozen=True)
class _View:
    """The folded input; folded character i came from ``original[starts[i]:ends[i]]``."""

    original: str
    text: str
    starts: array[int]  # arrays, not lists: a 2,000,000-character page is 32 MB, not 140
    ends: array[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded [start, end)."""
        return self.starts[start], self.ends[end - 1]

    def folded_span(self, start: int, end: int) -> tuple[int, int]:
        """The folded span of original [start, end)."""
        return bisect.bisect_left(self.starts, start), bisect.bisect_left(self.starts, end)


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_ASCII_FOLD = str.maketrans({c: r for c, r in _CHAR_REPLACEMENTS.items() if c.isascii()})


def _view(original: str) -> _View:
    pieces: list[str] = []
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    done = 0
    # ASCII runs fold by lower() alone; other characters one by one, as they may fold to
    # nothing (a combining accent) or to several characters (a ligature).
    for run in (*_ASCII_RUN.finditer(original), None):
        stop = run.start() if run else len(original)
        for i in range(done, stop):
            folded = _fold_char(original[i])
            if not folded:
                # A combining mark or similar: it belongs to the character before it.
                if ends:
                    ends[-1] = i + 1
                continue
            pieces.append(folded)
            starts.extend([i] * len(folded))
            ends.extend([i + 1] * len(folded))
        if run:
            pieces.append(run.group().lower().translate(_ASCII_FOLD))
            starts.extend(range(run.start(), run.end()))
            ends.extend(range(run.start() + 1, run.end() + 1))
            done = run.end()
    return _View(original, "".join(pieces), starts, ends)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Replace spans by spaces, keeping every offset."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# ---------------------------------------------------------------------------------------------
# Sentences and clauses.
# ---------------------------------------------------------------------------------------------

_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "inc", "ltd", "co", "s.r.o", "sr", "dr", "vs", "nr", "tj", "napr", "cca"}
)
_MAX_SENTENCE = 600
_SENTENCE_END = re.compile(r"[.!?]+[\"'”»)\]]*(?=\s)|\n|[•|·]")
_CLAUSE_BREAK = _compile(
    (
        r"but",
        r"however",
        r"although",
        r"mas",
        r"porem",
        r"contudo",
        r"pero",
        r"sin embargo",
        r"aunque",
        r"tapi",
        r"tetapi",
        r"namun",
        r"ale",
        r"avsak",
        r"hoci",
    )
)
# "..., and our sender ...": a new subject after a comma starts a new statement.
_NEW_SUBJECT = _compile(
    (
        r"(?:and|e|y|dan|a) (?:we|our|you|your|nosso|nossa|voce|nuestro|nuestra|tu|kami|anda|nas"
        r"|nasa|nase|vas|vasa)",
    )
)
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]]|\s[-–—]\s")


def _sentences(view: _View) -> list[tuple[int, int]]:
    """Sentence spans in the folded text. A line break ends a sentence unless the next line goes
    on in lower case (a wrapped paragraph), so headings and list items stand alone."""
    text = view.text
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if match.group().startswith("."):
            word = re.search(r"[\w.]+$", text[max(start, match.start() - 12) : match.start()])
            if word and word.group().lower() in _ABBREVIATIONS:
                continue
        if match.group() == "\n":
            rest = text[end:].lstrip(" \t")
            if rest and rest[0].isalpha():
                original_next = view.original[view.starts[len(text) - len(rest)]]
                if original_next.islower():
                    continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    return [piece for s, e in spans if text[s:e].strip() for piece in _bounded(text, s, e)]


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A run-on "sentence" (a page without punctuation) cut into pieces of bounded length, at
    spaces where possible, so that judging each cue costs the same on any page."""
    pieces = []
    while end - start > _MAX_SENTENCE:
        cut = text.rfind(" ", start + _MAX_SENTENCE // 2, start + _MAX_SENTENCE)
        cut = cut + 1 if cut > 0 else start + _MAX_SENTENCE
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _clause(text: str, sentence: tuple[int, int], start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end) inside its sentence."""
    s_start, s_end = sentence
    left = s_start
    for match in _CLAUSE_PUNCT.finditer(text, s_start, start):
        left = match.end()
    for match in _CLAUSE_BREAK.finditer(text, left, start):
        left = match.end()
    right = s_end
    after = _CLAUSE_PUNCT.search(text, end, s_end)
    if after:
        right = after.start()
    later = _CLAUSE_BREAK.search(text, end, right)
    if later:
        right = later.start()
    return left, right


# ---------------------------------------------------------------------------------------------
# Judging cues.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    kind: str
    start: int  # folded offsets
    end: int
    strong: bool
    unofficial: bool


@dataclass
class _Context:
    view: _View
    clean: str  # folded, URLs and e-mail addresses blanked
    masked: str  # clean, with every cue blanked: markers are looked for outside the cues
    sentences: list[tuple[int, int]]
    sentence_starts: list[int]
    quotes: list[tuple[int, int]]  # sorted, not overlapping
    quote_starts: list[int]
    channels: list[tuple[int, bool]]  # (position, is WhatsApp), contact mentions left out
    channel_positions: list[int]
    commercial: int
    language: str  # the document's main language, for words that negate only in some
    facts: dict[int, _SentenceFacts] = field(default_factory=dict)  # by sentence, as needed

    def sentence_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.sentence_starts, pos) - 1)


def _find_cues(clean: str) -> list[_Found]:
    found = [
        _Found(family.kind, m.start(), m.end(), family.strong, family.unofficial)
        for family in _FAMILIES
        for m in family.pattern.finditer(clean)
        if clean[m.start() : m.end()].strip()
    ]
    # Within a kind, overlapping cues are one passage: the strong one wins over a weak one,
    # then the longer one ("bulk whatsapp sender" over "whatsapp sender").
    by_kind: dict[str, list[_Found]] = {}
    for cue in found:
        by_kind.setdefault(cue.kind, []).append(cue)
    kept: list[_Found] = []
    for cues in by_kind.values():
        cues.sort(key=lambda c: (c.start, -(c.end - c.start)))
        current = cues[0]
        for cue in cues[1:]:
            if cue.start < current.end:
                if (cue.strong, cue.end - cue.start) > (
                    current.strong,
                    current.end - current.start,
                ):
                    current = cue
                continue
            kept.append(current)
            current = cue
        kept.append(current)
    return sorted(kept, key=lambda c: (c.start, c.kind))


def _channel_mentions(clean: str, language: str) -> list[tuple[int, bool]]:
    mentions: list[tuple[int, bool]] = []
    patterns = [(_WHATSAPP_MENTION, True), (_OTHER_CHANNEL_MENTION, False)]
    if language in _WHATSAPP_SLANG:
        patterns.append((_WHATSAPP_SLANG[language], True))
    for pattern, is_whatsapp in patterns:
        for m in pattern.finditer(clean):
            before = clean[max(0, m.start() - 50) : m.start()]
            after = clean[m.end() : m.end() + 40]
            if _CONTACT_BEFORE.search(before) or _CONTACT_AFTER.match(after):
                continue
            mentions.append((m.start(), is_whatsapp))
    return sorted(mentions)


def _about_whatsapp(ctx: _Context, cue: _Found, sentence: tuple[int, int]) -> bool:
    """The cue names WhatsApp, or its sentence does, or the nearest channel named before it
    (after it, if none comes before) is WhatsApp."""
    if _WHATSAPP_MENTION.search(ctx.clean, cue.start, cue.end):
        return True
    first = bisect.bisect_left(ctx.channel_positions, sentence[0])
    last = bisect.bisect_left(ctx.channel_positions, sentence[1])
    if first < last:
        return any(is_whatsapp for _, is_whatsapp in ctx.channels[first:last])
    if first > 0:
        return ctx.channels[first - 1][1]
    return last < len(ctx.channels) and ctx.channels[last][1]


def _tokens(text: str) -> list[str]:
    return re.findall(r"[\w']+", text)


def _negated(ctx: _Context, cue: _Found, sentence: tuple[int, int]) -> bool:
    clause = _clause(ctx.masked, sentence, cue.start, cue.end)
    tokens = _tokens(_ENCOURAGING.sub(" ", ctx.masked[clause[0] : cue.start]))
    negator = _NEGATOR[ctx.language]
    if negator.search(" ".join(tokens[-8:])) or _NEAR_NEGATOR[ctx.language].search(
        " ".join(tokens[-3:])
    ):
        return True
    suffix = _tokens(ctx.masked[cue.end : clause[1]])
    if _NEG_AFTER.search(" ".join(suffix[:8])):
        return True
    # A negated verb carries over a list: "we don't do spam, bulk messaging or cold calls".
    # A colon, a dash or "but" ends it: "No setup fees: bulk WhatsApp from $9".
    before = _ENCOURAGING.sub(" ", ctx.masked[sentence[0] : clause[0]])
    listed = re.split(r"[:;()\[\]]|\s[-–—]\s", before)[-1]
    own = ctx.masked[clause[0] : cue.start]
    if _CLAUSE_BREAK.search(listed) or _NEW_SUBJECT.search(f"{listed} {own}"):
        return False
    return bool(negator.search(" ".join(_tokens(listed)[-15:])))


def _question(ctx: _Context, index: int, cue: _Found) -> bool:
    start, end = ctx.sentences[index]
    sentence = ctx.clean[start:end].rstrip(" \n\t\"'”»)")
    return (
        sentence.endswith("?")
        or "¿" in ctx.clean[start : cue.start]
        or bool(_HOW_TO.match(ctx.clean, start, cue.start))
    )


def _answered_yes(ctx: _Context, index: int) -> bool:
    if index + 1 >= len(ctx.sentences):
        return False
    start, end = ctx.sentences[index + 1]
    return bool(_QUESTION_AFFIRMED.search(ctx.clean[start:end]))


def _quoted(ctx: _Context, pos: int) -> bool:
    i = bisect.bisect_right(ctx.quote_starts, pos) - 1
    return i >= 0 and pos < ctx.quotes[i][1]


@dataclass(frozen=True)
class _Judged:
    cue: _Found
    reason: str | None  # why it was dropped; None when it stands
    strong: bool  # may be weakened (a rhetorical question)
    self_offer: bool  # the speaker's own voice, outside quotes
    framed: bool  # its sentence sounds like an offer


@dataclass(frozen=True)
class _SentenceFacts:
    """What a sentence says about every cue in it (looked for outside the cues themselves)."""

    request: bool
    reported: bool
    policy: bool
    warning: bool
    mobile_plan: bool
    official: bool
    rhetorical: bool
    self_offer: bool
    framed: bool


def _facts(ctx: _Context, index: int) -> _SentenceFacts:
    if index not in ctx.facts:
        start, end = ctx.sentences[index]
        masked = ctx.masked[start:end]
        clean = ctx.clean[start:end]
        ctx.facts[index] = _SentenceFacts(
            request=bool(_REQUEST.search(masked)),
            reported=bool(_REPORT.search(masked)),
            policy=bool(_POLICY_RX.search(masked)),
            warning=bool(_WARNING_RX.search(masked) or _EXPERIENCE.search(masked)),
            mobile_plan=bool(_TELECOM_RX.search(masked)),
            official=bool(_OFFICIAL_RX.search(masked)),
            rhetorical=bool(_RHETORICAL.search(masked)),
            self_offer=bool(_SELF_OFFER_RX.search(masked)),
            framed=any(
                rx.search(clean) for rx in (_FRAME_RX, _IMPERATIVE_RX, _PRICE, _COMMERCIAL_RX)
            ),
        )
    return ctx.facts[index]


def _judge(ctx: _Context, cue: _Found) -> _Judged:
    """Judge one cue in its sentence and clause: the first reason that removes it, if any."""
    index = ctx.sentence_of(cue.start)
    sentence = ctx.sentences[index]
    facts = _facts(ctx, index)
    asked = _question(ctx, index, cue)
    # An FAQ that answers its own question with "yes" offers what it asks about; a rhetorical
    # "Want to reach thousands?" on a sales page only supports the page's other cues.
    answered = asked and ctx.commercial > 0 and _answered_yes(ctx, index)
    rhetorical = asked and not answered and ctx.commercial > 0 and facts.rhetorical
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("not about WhatsApp", lambda: not _about_whatsapp(ctx, cue, sentence)),
        ("negated", lambda: _negated(ctx, cue, sentence)),
        ("request", lambda: facts.request),
        ("question", lambda: asked and not answered and not rhetorical),
        ("reported", lambda: facts.reported),
        ("policy", lambda: facts.policy),
        ("warning", lambda: facts.warning),
        ("mobile plan", lambda: cue.kind == "bulk" and facts.mobile_plan),
        # The official platform sends in bulk and automates too, with templates and opt-in.
        ("official API", lambda: not cue.unofficial and facts.official),
    )
    return _Judged(
        cue=cue,
        reason=next((name for name, applies in checks if applies()), None),
        strong=cue.strong and not rhetorical,
        self_offer=facts.self_offer and not _quoted(ctx, cue.start),
        framed=facts.framed,
    )


def _context(text: str) -> tuple[_Context, list[_Found]]:
    view = _view(text)
    # Addresses are found in the original, where "_" and "*" still belong to them.
    addresses = (view.folded_span(*m.span()) for m in _URL_OR_EMAIL.finditer(text))
    clean = _blank(view.text, addresses)
    cues = _find_cues(clean)
    masked = _blank(clean, ((c.start, c.end) for c in cues))
    sentences = _sentences(view)
    quotes = _merged(
        [m.span() for m in _QUOTED.finditer(clean)]
        + [m.span() for m in _SINGLE_QUOTED.finditer(clean)]
    )
    language = _language(clean)
    channels = _channel_mentions(clean, language)
    # Prices count at most twice: articles about vendors quote their prices too.
    commercial = len(_COMMERCIAL_RX.findall(masked)) + min(2, len(_PRICE.findall(masked)))
    ctx = _Context(
        view=view,
        clean=clean,
        masked=masked,
        sentences=sentences,
        sentence_starts=[s for s, _ in sentences],
        quotes=quotes,
        quote_starts=[s for s, _ in quotes],
        channels=channels,
        channel_positions=[p for p, _ in channels],
        commercial=commercial,
        language=language,
    )
    return ctx, cues


def _sentences_matching(ctx: _Context, pattern: re.Pattern[str]) -> int:
    return sum(1 for s, e in ctx.sentences if pattern.search(ctx.masked, s, e))


def _other_voice(ctx: _Context) -> tuple[int, str]:
    """How strongly the document speaks as news, policy, research, a job ad, a forum, a review
    of other people's tools or a mobile plan, and which of them it speaks as most."""
    # Media names are looked for in the unblanked text: "Kompas.com" is also a domain.
    news = _sentences_matching(ctx, _REPORT) + 2 * len(_NEWS_RX.findall(ctx.view.text))
    if _DATELINE.search(ctx.view.original[:400]):
        news += 1
    if _BYLINE.search(ctx.view.original[:600]):
        news += 1
    policy = _sentences_matching(ctx, _PROHIBITION_RX) + _sentences_matching(ctx, _WARNING_RX)
    academic = len(_ACADEMIC_RX.findall(ctx.masked))
    job = len(_JOB_RX.findall(ctx.masked))
    # A vendor's FAQ asks "How do I...?" too; it is a forum only without an FAQ heading.
    requests = 0 if _FAQ.search(ctx.masked) else _sentences_matching(ctx, _REQUEST)
    forum = requests + len(_FORUM_RX.findall(ctx.masked))
    review = len(_REVIEW_RX.findall(ctx.masked))
    telecom = len(_TELECOM_RX.findall(ctx.masked))
    scores = {
        "news": news,
        "policy": policy,
        "academic": academic,
        "job": job,
        "forum": forum,
        "review": review,
        "telecom": telecom,
    }
    # Ties go to the first voice listed: a report quoting a policy is still a report.
    voice = max(scores, key=lambda name: scores[name])
    return scores[voice], voice


def _official_voice(ctx: _Context) -> bool:
    return bool(_OFFICIAL_RX.search(ctx.masked))


def _decide(ctx: _Context, judged: list[_Judged]) -> list[_Judged]:
    """The cues that make the document a claim; empty when it is not one."""
    standing = [j for j in judged if j.reason is None]
    # An official-API page keeps only what no official product offers.
    if _official_voice(ctx) and not any(j.cue.unofficial and j.strong for j in standing):
        standing = [j for j in standing if j.cue.kind == "scraping"]
    # A report, a policy, a paper, a job ad or a thread: only the speaker's own offer counts.
    other, _ = _other_voice(ctx)
    if other >= 2 and other >= ctx.commercial:
        standing = [j for j in standing if j.self_offer]
    if not any(j.strong for j in standing):
        return []
    # Somebody must be selling: a bare description ("bulk messaging is sent from...") is not.
    # Unofficial access, anti-ban measures and scraping are offers by nature.
    if not ctx.commercial and not any(
        j.strong and (j.framed or j.cue.unofficial) for j in standing
    ):
        return []
    kinds = {j.cue.kind for j in standing if j.strong}
    if kinds == {"unsaved-numbers"} and _SINGLE_CHAT.search(ctx.view.text):
        return []
    return standing


def detect_claims(text: str) -> ClaimVerdict:
    """Whether ``text`` offers bulk or automated WhatsApp sending, the passages that say so, and
    whose voice it speaks in when that is not a seller's."""
    if not text or not text.strip():
        return NOT_A_CLAIM
    ctx, found = _context(text)
    standing = _decide(ctx, [_judge(ctx, cue) for cue in found]) if found else []
    if not standing:
        return ClaimVerdict(is_claim=False, kinds=(), cues=(), voice=_voice(ctx))
    cues = []
    for judged in standing:
        start, end = ctx.view.span(judged.cue.start, judged.cue.end)
        cues.append(Cue(judged.cue.kind, text[start:end], start, end))
    kinds = tuple(sorted({c.kind for c in cues}))
    return ClaimVerdict(is_claim=True, kinds=kinds, cues=tuple(cues), voice=_voice(ctx))


def _voice(ctx: _Context) -> str | None:
    """The non-selling voice the document speaks in, if one clearly outweighs its selling."""
    other, voice = _other_voice(ctx)
    if other >= 2 and other >= ctx.commercial:
        return voice
    return "official" if _official_voice(ctx) else None


def explain(text: str) -> list[tuple[str, str, str]]:
    """For analysts and tests: every cue found as (kind, passage, why dropped or "kept")."""
    ctx, found = _context(text)
    out = []
    for judged in (_judge(ctx, cue) for cue in found):
        start, end = ctx.view.span(judged.cue.start, judged.cue.end)
        out.append((judged.cue.kind, text[start:end], judged.reason or "kept"))
    return out
