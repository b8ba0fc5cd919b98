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

The phrases of every step are data: ``lexicon/`` holds one TOML file per language and
``common.toml`` for what the languages share, each phrase a named entry (``lexicon`` reads and
checks them). This module is the reading, with the few expressions that are layout rather than
phrases (datelines, bylines, prices, "how to" titles).

``detect_claims`` returns the verdict, its kinds (sorted alphabetically) and the passages that
stand; ``explain`` lists every passage found with the reason it was set aside, for analysts.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from tasks.evidence.reading import lexicon
from tasks.evidence.reading.indicators import fold

CLAIM_KINDS = lexicon.CLAIM_KINDS  # what an offer can be of; each offer table declares one


@dataclass(frozen=True)
class Cue:
    kind: str  # one of CLAIM_KINDS, or "model" for a sentence a trained model weighed
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
# The lexicon. The phrases are data, one file per language (lexicon/*.toml, read and checked
# once per process); each table becomes here the one expression the reader searches with.
# ---------------------------------------------------------------------------------------------

_LEXICON = lexicon.load()
_LANGS = _LEXICON.languages


@dataclass(frozen=True)
class _CueFamily:
    kind: str
    pattern: re.Pattern[str]
    strong: bool
    # Unofficial by nature: outweighs official-API framing elsewhere in the document.
    unofficial: bool


# Offer cues, one family per offer table. Strong cues decide; weak cues only add their kind.
_FAMILIES = tuple(
    _CueFamily(table.kind, _LEXICON.phrases(table.name), table.strong, table.unofficial)
    for table in _LEXICON.offers
    if table.kind is not None
)

# Channels. An offer must be about WhatsApp; "contact us on WhatsApp" under a bulk SMS offer
# does not make it one.
_WHATSAPP_MENTION = _LEXICON.whole("whatsapp-mention")
# Alone, "zap" names WhatsApp only in Brazilian Portuguese and "WA" only in Indonesian.
_WHATSAPP_SLANG = {
    lang: _LEXICON.whole("whatsapp-slang", language=lang)
    for lang in _LANGS
    if _LEXICON.of("whatsapp-slang", language=lang)
}
_OTHER_CHANNEL_MENTION = _LEXICON.phrases("other-channels")
# A channel named only as a way to reach the speaker: "contact us on WhatsApp", "WhatsApp: +62".
_CONTACT_BEFORE = _LEXICON.whole("contact-before")
# Followed by a phone number, or a label ("WhatsApp:") whose value was an address, now blanked.
_CONTACT_AFTER = re.compile(r"^\s*(?::\s*$|[:\-]?\s*\+?\(?\d[\d\s().\-]{6,}\d)")

# Sentence-level framing that removes a cue. A word that negates in one language and means
# something else in another is read only in documents mostly in the first (its only-in).
_NEGATOR = {lang: _LEXICON.phrases("negators", document_language=lang) for lang in _LANGS}
_NEAR_NEGATOR = {
    lang: _LEXICON.phrases("near-negators", "opposition", document_language=lang) for lang in _LANGS
}
_ENCOURAGING = _LEXICON.phrases("encouraging-negations")
_NEG_AFTER = _LEXICON.phrases("negation-after")
_REQUEST = _LEXICON.phrases("requests")
_REPORT = _LEXICON.phrases("reporting")
_POLICY_RX = _LEXICON.phrases("prohibitions", "policy-references")
_PROHIBITION_RX = _LEXICON.phrases("prohibitions")
_WARNING_RX = _LEXICON.phrases("warnings")
_EXPERIENCE = _LEXICON.whole("experience")
_OFFICIAL_RX = _LEXICON.phrases("official")

# Document voice: who is speaking.
_COMMERCIAL_RX = _LEXICON.phrases("calls-to-action", "self-offers")
_SELF_OFFER_RX = _LEXICON.phrases("self-offers")
_FRAME_RX = _LEXICON.phrases("offer-frame")
# Imperatives that open a sentence or clause: "Send to thousands", "Dispare agora".
_IMPERATIVE_RX = re.compile(
    r"(?:^|[:;!?•|–—-])\W*(?:" + _LEXICON.alternation("imperatives") + r")(?!\w)"
)
_PRICE = re.compile(
    r"(?:[$€£]|r\$|\brp\.?|\b(?:usd|eur|idr|brl|mxn|cop|ars|clp|pen)\b)\s?\d"
    r"|(?<![\d.,])\d(?:[\d.,]*\d)?\s?(?:€|\$|\b(?:eur|euros?|usd|reais|dolares|rupiah)\b)"
)
_NEWS_RX = _LEXICON.phrases("news")
_ACADEMIC_RX = _LEXICON.phrases("academic")
_JOB_RX = _LEXICON.phrases("job")
_FORUM_RX = _LEXICON.phrases("forum")
_REVIEW_RX = _LEXICON.phrases("review")
_TELECOM_RX = _LEXICON.phrases("telecom")
_FAQ = _LEXICON.phrases("faq")
# "BRATISLAVA -", "SAO PAULO —", "JAKARTA, KOMPAS.com -": an all-caps dateline opening a line.
_DATELINE = re.compile(r"(?m)^[A-ZÀ-Ý][A-ZÀ-Ý .]{2,30}(?:,[^\n\-–—]{2,30})?\s[-–—]\s")
_BYLINE = re.compile(r"(?m)^(?:By|Por|Oleh|Autor|Autorka|Reporter|Penulis):? [A-Z]\w+ [A-Z]\w+")

# Single-chat helpers ("open a chat without saving the number") are not bulk tools.
_SINGLE_CHAT = _LEXICON.phrases("single-chat")
# Guides are titled like questions: "How to send bulk WhatsApp without getting banned".
_HOW_TO = re.compile(
    r"\W*(?:how to|como \w+(?:ar|er|ir|or)|(?:bagaimana )?cara|ako \w+t)\b", re.IGNORECASE
)
# An FAQ that answers its own question: "yes", at the start of the next sentence.
_QUESTION_AFFIRMED = re.compile(r"^\W*(?:" + _LEXICON.alternation("affirmations") + r")(?!\w)")
_RHETORICAL = _LEXICON.phrases("rhetorical")

# Frequent function words, to tell which language a document is mostly in.
_FUNCTION_WORDS = _LEXICON.function_words


def _language(clean: str) -> str:
    counts = dict.fromkeys(_LANGS, 0)
    for token in re.findall(r"[a-z]+", clean):
        for lang, words in _FUNCTION_WORDS.items():
            if token in words:
                counts[lang] += 1
    return max(_LANGS, key=lambda lang: counts[lang])


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
_CLAUSE_BREAK = _LEXICON.phrases("clause-breaks")
# "..., and our sender ...": a new subject after a comma starts a new statement.
_NEW_SUBJECT = _LEXICON.phrases("new-subject")
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
    contact_mentions: int  # channels named only as a way to reach the speaker
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


def _channel_mentions(clean: str, language: str) -> tuple[list[tuple[int, bool]], int]:
    """The channels the text names, by position, and how many were named only as a way to
    reach the speaker ("contact us on WhatsApp"), which are left out of the list."""
    mentions: list[tuple[int, bool]] = []
    contact = 0
    patterns = [(_WHATSAPP_MENTION, True), (_OTHER_CHANNEL_MENTION, False)]
    if language in _WHATSAPP_SLANG:
        patterns.append((_WHATSAPP_SLANG[language], True))
    for pattern, is_whatsapp in patterns:
        for m in pattern.finditer(clean):
            before = clean[max(0, m.start() - 50) : m.start()]
            after = clean[m.end() : m.end() + 40]
            if _CONTACT_BEFORE.search(before) or _CONTACT_AFTER.match(after):
                contact += 1
                continue
            mentions.append((m.start(), is_whatsapp))
    return sorted(mentions), contact


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
    channels, contact_mentions = _channel_mentions(clean, language)
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
        contact_mentions=contact_mentions,
    )
    return ctx, cues


def _sentences_matching(ctx: _Context, pattern: re.Pattern[str]) -> int:
    return sum(1 for s, e in ctx.sentences if pattern.search(ctx.masked, s, e))


def _voice_scores(ctx: _Context) -> dict[str, int]:
    """How strongly the document speaks as news, policy, research, a job ad, a forum, a review
    of other people's tools or a mobile plan, in the order of ``VOICES``."""
    # Media names are looked for in the unblanked text: "Kompas.com" is also a domain.
    news = _sentences_matching(ctx, _REPORT) + 2 * len(_NEWS_RX.findall(ctx.view.text))
    if _DATELINE.search(ctx.view.original[:400]):
        news += 1
    if _BYLINE.search(ctx.view.original[:600]):
        news += 1
    policy = _sentences_matching(ctx, _PROHIBITION_RX) + _sentences_matching(ctx, _WARNING_RX)
    # A vendor's FAQ asks "How do I...?" too; it is a forum only without an FAQ heading.
    requests = 0 if _FAQ.search(ctx.masked) else _sentences_matching(ctx, _REQUEST)
    return {
        "news": news,
        "policy": policy,
        "academic": len(_ACADEMIC_RX.findall(ctx.masked)),
        "job": len(_JOB_RX.findall(ctx.masked)),
        "forum": requests + len(_FORUM_RX.findall(ctx.masked)),
        "review": len(_REVIEW_RX.findall(ctx.masked)),
        "telecom": len(_TELECOM_RX.findall(ctx.masked)),
    }


def _other_voice(scores: dict[str, int]) -> tuple[int, str]:
    """The strongest non-selling voice and its score."""
    # Ties go to the first voice listed: a report quoting a policy is still a report.
    voice = max(scores, key=lambda name: scores[name])
    return scores[voice], voice


def _official_voice(ctx: _Context) -> bool:
    return bool(_OFFICIAL_RX.search(ctx.masked))


@dataclass(frozen=True)
class _Decision:
    """The page-level steps of the rules, each recorded: a model weighs what they veto."""

    kept: list[_Judged]  # the cues that stand in their own sentence
    standing: list[_Judged]  # those that make the document a claim; empty when it is not one
    official_veto: bool  # an official-API page set its cues aside
    voice_veto: bool  # another voice (news, policy...) kept only the speaker's own offers
    no_seller: bool  # nobody sells: no commercial marker and no framed or unofficial cue
    single_chat: bool  # only unsaved numbers, on a page that builds single chats


def _decide(ctx: _Context, judged: list[_Judged], voices: dict[str, int]) -> _Decision:
    """Which cues make the document a claim, and which page-level step removed the others."""
    kept = [j for j in judged if j.reason is None]
    standing = kept
    # An official-API page keeps only what no official product offers.
    official_veto = _official_voice(ctx) and not any(j.cue.unofficial and j.strong for j in kept)
    if official_veto:
        standing = [j for j in standing if j.cue.kind == "scraping"]
    # A report, a policy, a paper, a job ad or a thread: only the speaker's own offer counts.
    other, _ = _other_voice(voices)
    voice_veto = other >= 2 and other >= ctx.commercial
    if voice_veto:
        standing = [j for j in standing if j.self_offer]
    # Somebody must be selling: a bare description ("bulk messaging is sent from...") is not.
    # Unofficial access, anti-ban measures and scraping are offers by nature.
    no_seller = not ctx.commercial and not any(
        j.strong and (j.framed or j.cue.unofficial) for j in standing
    )
    kinds = {j.cue.kind for j in standing if j.strong}
    single_chat = kinds == {"unsaved-numbers"} and bool(_SINGLE_CHAT.search(ctx.view.text))
    if not kinds or no_seller or single_chat:
        standing = []
    return _Decision(kept, standing, official_veto, voice_veto, no_seller, single_chat)


# Why a cue is set aside in its sentence, in the order ``_judge`` asks.
DROP_REASONS = (
    "not about WhatsApp",
    "negated",
    "request",
    "question",
    "reported",
    "policy",
    "warning",
    "mobile plan",
    "official API",
)
_WEIGHTS = ("strong", "weak")
# The signals the rules read, by name, in a fixed order: what a trained reader weighs beside the
# text. Counts are of cues (one passage each) or of markers in the page.
SIGNALS: tuple[str, ...] = (
    "rules:claim",
    *(
        f"cue:{kind}:{weight}:{state}"
        for kind in CLAIM_KINDS
        for weight in _WEIGHTS
        for state in ("found", "kept", "self-offer", "framed")
    ),
    "cue:unofficial:kept",
    *(f"dropped:{reason}" for reason in DROP_REASONS),
    *(f"voice:{voice}" for voice in VOICES if voice != "official"),
    "voice:official",
    "veto:official",
    "veto:voice",
    "veto:no-seller",
    "veto:single-chat",
    "seller:commercial",
    "seller:calls-to-action",
    "seller:self-offers",
    "seller:prices",
    "seller:imperatives",
    "seller:offer-frames",
    "seller:faq",
    "platform:whatsapp",
    "platform:other-channels",
    "platform:contact-mentions",
    *(f"language:{lang}" for lang in _LANGS),
)


def _signals(
    ctx: _Context, judged: list[_Judged], decision: _Decision, voices: dict[str, int]
) -> dict[str, float]:
    signals = dict.fromkeys(SIGNALS, 0.0)
    signals["rules:claim"] = float(bool(decision.standing))
    for j in judged:
        weight = "strong" if j.strong else "weak"
        prefix = f"cue:{j.cue.kind}:{weight}"
        signals[f"{prefix}:found"] += 1
        if j.reason is not None:
            signals[f"dropped:{j.reason}"] += 1
            continue
        signals[f"{prefix}:kept"] += 1
        signals[f"{prefix}:self-offer"] += j.self_offer
        signals[f"{prefix}:framed"] += j.framed
        signals["cue:unofficial:kept"] += j.cue.unofficial
    for voice, score in voices.items():
        signals[f"voice:{voice}"] = float(score)
    signals["voice:official"] = float(_official_voice(ctx))
    signals["veto:official"] = float(decision.official_veto)
    signals["veto:voice"] = float(decision.voice_veto)
    signals["veto:no-seller"] = float(decision.no_seller)
    signals["veto:single-chat"] = float(decision.single_chat)
    signals["seller:commercial"] = float(ctx.commercial)
    signals["seller:calls-to-action"] = float(len(_COMMERCIAL_RX.findall(ctx.masked)))
    signals["seller:self-offers"] = float(len(_SELF_OFFER_RX.findall(ctx.masked)))
    signals["seller:prices"] = float(len(_PRICE.findall(ctx.masked)))
    signals["seller:imperatives"] = float(len(_IMPERATIVE_RX.findall(ctx.clean)))
    signals["seller:offer-frames"] = float(len(_FRAME_RX.findall(ctx.clean)))
    signals["seller:faq"] = float(bool(_FAQ.search(ctx.masked)))
    whatsapp = sum(is_whatsapp for _, is_whatsapp in ctx.channels)
    signals["platform:whatsapp"] = float(whatsapp)
    signals["platform:other-channels"] = float(len(ctx.channels) - whatsapp)
    signals["platform:contact-mentions"] = float(ctx.contact_mentions)
    signals[f"language:{ctx.language}"] = 1.0
    return signals


@dataclass(frozen=True)
class ClaimReading:
    """The rules' verdict with what they saw on the way: the signals a trained reader weighs,
    and the passages that stand in their own sentence (a trained reader's explanation when it
    finds a claim the page's voice set aside)."""

    verdict: ClaimVerdict
    signals: dict[str, float]  # by name, every name of SIGNALS
    kept: tuple[Cue, ...]  # strong ones first, then in reading order


def read_claims(text: str) -> ClaimReading:
    """:func:`detect_claims`, with the signals and passages behind it."""
    if not text or not text.strip():
        return ClaimReading(NOT_A_CLAIM, dict.fromkeys(SIGNALS, 0.0), ())
    ctx, found = _context(text)
    judged = [_judge(ctx, cue) for cue in found]
    voices = _voice_scores(ctx)
    decision = _decide(ctx, judged, voices)
    voice = _voice(ctx, voices)
    kept = tuple(
        _cue(text, ctx, j) for j in sorted(decision.kept, key=lambda j: (not j.strong, j.cue.start))
    )
    signals = _signals(ctx, judged, decision, voices)
    if not decision.standing:
        return ClaimReading(ClaimVerdict(False, (), (), voice=voice), signals, kept)
    cues = tuple(_cue(text, ctx, j) for j in decision.standing)
    kinds = tuple(sorted({c.kind for c in cues}))
    return ClaimReading(ClaimVerdict(True, kinds, cues, voice=voice), signals, kept)


def detect_claims(text: str) -> ClaimVerdict:
    """Whether ``text`` offers bulk or automated WhatsApp sending, the passages that say so, and
    whose voice it speaks in when that is not a seller's."""
    return read_claims(text).verdict


def _cue(text: str, ctx: _Context, judged: _Judged) -> Cue:
    start, end = ctx.view.span(judged.cue.start, judged.cue.end)
    return Cue(judged.cue.kind, text[start:end], start, end)


def _voice(ctx: _Context, voices: dict[str, int]) -> str | None:
    """The non-selling voice the document speaks in, if one clearly outweighs its selling."""
    other, voice = _other_voice(voices)
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
