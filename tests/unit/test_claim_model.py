"""The trained claim reader: its text features are scikit-learn's, its JSON form scores as the
fitted model does, its explanation adds up, and what it decides reaches the analysis."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from tasks.evidence.reading.analysis import MODEL_PASSAGE, RULES, analyze
from tasks.evidence.reading.claim_model import (
    ClaimModel,
    ClaimModelError,
    char_wb_ngrams,
)
from tasks.evidence.reading.claims import read_claims
from tasks.evidence.reading.html_text import to_text
from tasks.offline.evidence_evaluation import corpus_set
from tasks.offline.evidence_training import (
    TrainingSettings,
    calibrate,
    choose_threshold,
    fit,
    prepare,
)
from tests.evidence_model import small_model, small_set

SAMPLES = [
    "Send 10,000 WhatsApp messages a day",
    "a  b\u00a0c\td\ne",
    "हम व्हाट्सएप पर बल्क मैसेज भेजते हैं",
    "Ahoj, posielame hromadné správy. x xy xyzab",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_ngrams_are_scikit_learns_char_wb(text: str) -> None:
    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    assert char_wb_ngrams(text) == analyzer(text)


def test_training_features_are_tfidf_vectorizers() -> None:
    data = prepare(small_set()[:120])
    rows = np.arange(len(data))
    fitted = fit(data, rows, TrainingSettings())
    reference = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
    ).fit(data.texts)
    assert data.ngrams[fitted.columns].tolist() == reference.get_feature_names_out().tolist()
    np.testing.assert_allclose(fitted.tfidf.idf_, reference.idf_)
    ours = fitted.tfidf.transform(data.counts[:, fitted.columns])
    np.testing.assert_allclose(ours.toarray(), reference.transform(data.texts).toarray())


def test_the_json_model_scores_as_the_fitted_one() -> None:
    data = prepare(small_set()[:160])
    rows = np.arange(len(data))
    settings = TrainingSettings()
    fitted = fit(data, rows, settings)
    logits = fitted.logits(data, rows)
    calibration = calibrate(logits, data.labels)
    model = small_model()
    spec = {
        **model.spec,
        "intercept": fitted.intercept,
        "calibration": {"slope": calibration.slope, "intercept": calibration.intercept},
        "text": {
            **model.spec["text"],
            "ngrams": data.ngrams[fitted.columns].tolist(),
            "idf": fitted.tfidf.idf_.tolist(),
            "coef": fitted.text_coef.tolist(),
        },
        "signals": {**model.spec["signals"], "coef": fitted.signal_coef.tolist()},
    }
    served = ClaimModel.from_json(orjson.dumps(spec))
    expected = calibration.probability(logits)
    for row in range(0, len(data), 7):
        text = data.texts[row]
        got = served.read(text, read_claims(text).signals).probability
        assert got == pytest.approx(expected[row], abs=1e-9)


def test_the_explanation_adds_up_to_the_decision() -> None:
    model = small_model()
    text = to_text(small_set()[0].text)
    signals = read_claims(text).signals
    every = model.read(text, signals, explain=100_000)
    logit = model.intercept + math.fsum(c.weight for c in every.contributions)
    z = model.spec["calibration"]["slope"] * logit + model.spec["calibration"]["intercept"]
    # Contributions are rounded to four places each.
    assert 1 / (1 + math.exp(-z)) == pytest.approx(every.probability, abs=1e-2)
    top = model.read(text, signals, explain=5).contributions
    assert len(top) == 5
    assert [abs(c.weight) for c in top] == sorted((abs(c.weight) for c in top), reverse=True)
    assert {c.feature.split(":")[0] for c in every.contributions} <= {"signal", "word"}


def test_a_threshold_keeps_the_precision_target() -> None:
    probabilities = np.array([0.9, 0.8, 0.8, 0.7, 0.6, 0.5])
    labels = np.array([1, 1, 0, 1, 0, 1], dtype=np.int8)
    # At 0.7, 3 of the 4 documents at or above are claims; at 0.5, 4 of 6.
    assert choose_threshold(probabilities, labels, 0.75) == 0.7
    assert choose_threshold(probabilities, labels, 0.66) == 0.5
    # Equal probabilities are cut together: at 0.8, 2 of 3 (never the first 0.8 alone).
    assert choose_threshold(probabilities, labels, 0.9) == 0.9
    assert choose_threshold(probabilities, labels[::-1] * 0, 0.9) == 1.0


def test_a_model_file_is_checked_before_use() -> None:
    spec = small_model().spec
    with pytest.raises(ClaimModelError, match="format"):
        ClaimModel({**spec, "format": "pickle"})
    with pytest.raises(ClaimModelError, match="missing or malformed"):
        ClaimModel({k: v for k, v in spec.items() if k != "threshold"})
    with pytest.raises(ClaimModelError, match="differ in size"):
        ClaimModel({**spec, "text": {**spec["text"], "idf": spec["text"]["idf"][:-1]}})
    with pytest.raises(ClaimModelError, match="weights numbers"):
        ClaimModel({**spec, "text": {**spec["text"], "idf": ["1", *spec["text"]["idf"][1:]]}})
    unknown = {**spec["signals"], "names": ["cue:telepathy", *spec["signals"]["names"][1:]]}
    with pytest.raises(ClaimModelError, match="does not read"):
        ClaimModel({**spec, "signals": unknown})
    with pytest.raises(ClaimModelError):
        ClaimModel.from_json(b"\x80\x04pickle")


def test_the_analysis_says_who_read_it() -> None:
    text = "Bulk WhatsApp sender: 50,000 messages a day, anti-ban rotation. Plans from $19."
    by_rules = analyze(text)
    assert (by_rules.reader, by_rules.claim_probability) == (RULES, None)
    model = small_model()
    by_model = analyze(text, model=model, explain=3)
    assert by_model.reader == model.version
    assert by_model.claim_probability is not None
    assert by_model.is_claim is (by_model.claim_probability >= model.threshold)
    assert len(by_model.contributions) == 3
    assert by_model.as_json()["reader"] == model.version
    # The passages shown are the rules' cues, spans into the text read.
    assert by_model.cues
    assert all(by_model.text[c.start : c.end] == c.text for c in by_model.cues)


def test_a_claim_no_rule_marks_shows_the_sentences_the_model_weighed() -> None:
    # A pricing page that states its offer as credits and a number filter: no rule cue stands,
    # the model (which never saw this writer) reads a claim, and a person reads why.
    page = next(d for d in corpus_set() if d["id"] == "wb-en-002")
    found = analyze(page["text"], page.get("url"), small_model())
    assert found.is_claim
    assert not read_claims(found.text).kept
    assert {c.kind for c in found.cues} == {MODEL_PASSAGE}
    assert found.claim_kinds == ()  # a weighed sentence names no kind of offer
    assert all(found.text[c.start : c.end] == c.text for c in found.cues)
    assert any("credit" in c.text for c in found.cues)
    assert [c.start for c in found.cues] == sorted(c.start for c in found.cues)
