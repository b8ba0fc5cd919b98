"""A trained claim reader: a linear model over the text's character n-grams and the rules'
signals, with a calibrated probability and the operating threshold it was trained for.

The rules (``claims``) decide who speaks and what is offered with hand-written steps, and one of
them lets the page's voice (news, forum, policy, official...) set aside every offer cue on the
page. A model weighs the same evidence instead of obeying it: every signal the rules read
(``claims.SIGNALS``: offer cues by kind, weight and fate, the voices and their vetoes, prices,
calls to action, channels named) is a feature beside the text itself, character n-grams within
words (2 to 5 characters, TF-IDF, as scikit-learn's ``TfidfVectorizer(analyzer="char_wb")``
computes them), so a vendor's blog that cites the rules and still sells is read on all it says.

The model is data, never code: a JSON document with the n-grams, their IDF weights and
coefficients, the signals' coefficients, the calibration and the threshold, written by
``tasks.offline.evidence_training`` and kept in the model registry. Nothing is unpickled. It
reads the text the reader reads (``html_text.to_text``), so a person's verdict on a stored
document trains on exactly what the model will see.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from tasks.evidence.reading.claims import SIGNALS

FORMAT = "bulkguard.claim-model/1"
NGRAM_RANGE = (2, 5)
# A sentence or a line: what a passage the model weighed is cut to.
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_PASSAGE_MIN_WORDS = 3


class ClaimModelError(ValueError):
    """A model file that cannot be read as a claim model."""


def char_wb_ngrams(text: str, ngram_range: tuple[int, int] = NGRAM_RANGE) -> list[str]:
    """The character n-grams of each word padded with a space either side, as scikit-learn's
    ``analyzer="char_wb"`` (with ``lowercase=True``) makes them; a word shorter than n gives
    itself once."""
    low, high = ngram_range
    grams: list[str] = []
    for word in text.lower().split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


@dataclass(frozen=True)
class Contribution:
    """One feature's push on the decision, in log-odds: positive toward a claim."""

    feature: str  # "signal:<name>", or "word:<word>" for the text's n-grams within a word
    value: float  # the signal as the model sees it (log1p of its count); the word's count
    weight: float  # the push: coefficient x value, or the word's share of the text's push


@dataclass(frozen=True)
class ModelReading:
    probability: float  # calibrated: of documents scored so, this share were claims
    is_claim: bool  # probability at or above the model's threshold
    contributions: tuple[Contribution, ...]  # largest push first, either way


class ClaimModel:
    """A linear claim model, read from its JSON form."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        try:
            if spec["format"] != FORMAT:
                raise ClaimModelError(f"not a claim model: format {spec['format']!r}")
            self.version: str = str(spec["version"])
            self.threshold: float = float(spec["threshold"])
            self.intercept: float = float(spec["intercept"])
            calibration = spec["calibration"]
            self._slope = float(calibration["slope"])
            self._offset = float(calibration["intercept"])
            text = spec["text"]
            self._ngram_range = (int(text["ngram_range"][0]), int(text["ngram_range"][1]))
            self._sublinear = bool(text["sublinear_tf"])
            grams, idf, coef = text["ngrams"], text["idf"], text["coef"]
            signals = spec["signals"]
            names, signal_coef = signals["names"], signals["coef"]
        except (KeyError, TypeError, IndexError) as exc:
            raise ClaimModelError(f"not a claim model: {exc!r} missing or malformed") from exc
        if not len(grams) == len(idf) == len(coef) or len(names) != len(signal_coef):
            raise ClaimModelError("not a claim model: vocabulary and coefficients differ in size")
        unknown = set(names) - set(SIGNALS)
        if unknown:
            raise ClaimModelError(
                f"the model weighs signals this reader does not read: {sorted(unknown)[:5]}"
            )
        numbers = {type(x) for x in (*idf, *coef, *signal_coef)}
        if not numbers <= {float, int} or not {type(g) for g in grams} <= {str}:
            raise ClaimModelError("not a claim model: n-grams must be strings, weights numbers")
        # Per n-gram: its IDF and its coefficient, looked up once per n-gram of a document.
        # Built by zip alone: this is most of a process's start-up with a model.
        self._vocabulary: dict[str, tuple[float, float]] = dict(
            zip(grams, zip(idf, coef, strict=True), strict=True)
        )
        self._signals = {str(name): float(c) for name, c in zip(names, signal_coef, strict=True)}
        self.spec = spec

    @classmethod
    def from_json(cls, data: bytes) -> ClaimModel:
        try:
            spec = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ClaimModelError(f"not a claim model: {exc}") from exc
        if not isinstance(spec, dict):
            raise ClaimModelError("not a claim model: not a JSON object")
        return cls(spec)

    def read(self, text: str, signals: Mapping[str, float], *, explain: int = 0) -> ModelReading:
        """Score ``text`` (the document as the reader reads it) with the rules' ``signals``;
        ``explain``: how many of the largest contributions to keep."""
        weights = self._text_weights(text)
        pushes = [
            (f"signal:{name}", value, coef * value)
            for name, coef in self._signals.items()
            if (value := math.log1p(max(0.0, signals.get(name, 0.0))))
        ]
        text_push = math.fsum(self._vocabulary[gram][1] * w for gram, w in weights.items())
        logit = self.intercept + text_push + math.fsum(push for _, _, push in pushes)
        z = self._slope * logit + self._offset
        probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        if explain:
            pushes += self._word_pushes(text, weights)
        top = sorted(pushes, key=lambda p: -abs(p[2]))[:explain]
        return ModelReading(
            probability=probability,
            is_claim=probability >= self.threshold,
            contributions=tuple(Contribution(f, round(v, 4), round(w, 4)) for f, v, w in top),
        )

    def passages(self, text: str, count: int = 3) -> list[tuple[int, int]]:
        """The spans of the ``count`` sentences of ``text`` that push it most toward a claim,
        in the order they stand: what a person reads where the model finds a claim that no
        rule cue marks (offers stated as quotas, credits or queue behaviour)."""
        weights = self._text_weights(text)
        per_word = {
            feature.removeprefix("word:"): push / times
            for feature, times, push in self._word_pushes(text, weights)
        }
        pushed = []
        for found in _SENTENCE.finditer(text):
            words = found.group(0).lower().split()
            push = math.fsum(per_word.get(word, 0.0) for word in words)
            if push > 0 and len(words) >= _PASSAGE_MIN_WORDS:
                start = found.start() + len(found.group(0)) - len(found.group(0).lstrip())
                pushed.append((push, start, found.start() + len(found.group(0).rstrip())))
        best = sorted(pushed, reverse=True)[:count]
        return sorted((start, end) for _, start, end in best)

    def _text_weights(self, text: str) -> dict[str, float]:
        """Each known n-gram's TF-IDF weight, L2-normalised over the known ones (as
        scikit-learn does)."""
        counts = Counter(char_wb_ngrams(text, self._ngram_range))
        weights = {}
        for gram, count in counts.items():
            known = self._vocabulary.get(gram)
            if known is not None:
                tf = 1.0 + math.log(count) if self._sublinear else float(count)
                weights[gram] = tf * known[0]
        norm = math.sqrt(math.fsum(w * w for w in weights.values()))
        return {gram: w / norm for gram, w in weights.items()} if norm else {}

    def _word_pushes(
        self, text: str, weights: Mapping[str, float]
    ) -> list[tuple[str, float, float]]:
        """The text's push shared out to its words: each n-gram's push split evenly over its
        occurrences, each occurrence credited to the word it is in. The words' pushes add up to
        the text's; a word's value is how often it occurs."""
        words = Counter(text.lower().split())
        occurrences: Counter[str] = Counter()
        grams_of = {}
        for word, times in words.items():
            grams_of[word] = Counter(char_wb_ngrams(word, self._ngram_range))
            for gram, count in grams_of[word].items():
                occurrences[gram] += count * times
        pushes = []
        for word, times in words.items():
            push = math.fsum(
                self._vocabulary[gram][1] * weights[gram] * count * times / occurrences[gram]
                for gram, count in grams_of[word].items()
                if gram in weights
            )
            if push:
                pushes.append((f"word:{word}", float(times), push))
        return pushes
