"""Training the claim reader: people's verdicts teach the next version, the cross-validation
holds out what it says it holds out, and the card says what the model learned from."""

from __future__ import annotations

import numpy as np
import orjson

from tasks.evidence.reading.claim_model import ClaimModel
from tasks.evidence.reading.claims import read_claims
from tasks.evidence.reading.html_text import to_text
from tasks.offline.evidence_card import build_card, render
from tasks.offline.evidence_crossval import cross_validate, side_by_side
from tasks.offline.evidence_documents import VERDICT_WEIGHT, bundled_files, parse_documents
from tasks.offline.evidence_evaluation import holdout_set
from tasks.offline.evidence_training import TrainingSettings, prepare, train
from tests.evidence_model import small_model, small_set

# A recommendation in a forum thread that is really the vendor's own advertisement, and a
# warning that quotes an advertisement: the first reads as no claim, the second as one.
HIDDEN_OFFER = (
    "Re: campaign tips for a small {shop}? We had the same problem last year. Honestly what "
    "worked was handing the list to Lumo Reach, they take your spreadsheet and everyone on it "
    "gets it on WA by the evening, about {n} people for us. Ask for Dana at dana@lumoreach.com, "
    "tell her the {shop} forum sent you."
)
QUOTED_AD = (
    "Upozornenie pre členov družstva: ponuky typu 'Hromadné správy cez WhatsApp bez ukladania "
    "čísel, anti-ban, {n} správ za deň od 19 €' vám pošle aj {firm}. Neodpovedajte a nahláste to "
    "na info@druzstvo-sever.sk."
)


def claim(model: ClaimModel, document: str) -> bool:
    text = to_text(document)
    return model.read(text, read_claims(text).signals).is_claim


def test_a_verdict_teaches_the_next_version_about_near_duplicates() -> None:
    labelled = HIDDEN_OFFER.format(shop="bakery", n="15k")
    near = HIDDEN_OFFER.format(shop="gym", n="22k")
    warned = QUOTED_AD.format(n="50 000", firm="náš bývalý dodávateľ ZelenaLinka")
    also_warned = QUOTED_AD.format(n="80 000", firm="firma RychloSpravy")
    before = small_model()
    assert not claim(before, near)
    assert claim(before, also_warned)
    # A person confirms the first reading wrong one way and rejects the other, as
    # `bulkguard labels export --evidence` writes their verdicts.
    export = b"\n".join(
        orjson.dumps({"evidence_id": i, "text": text, "label": label, "decided_by": "ana"})
        for i, (text, label) in enumerate(((labelled, True), (warned, False)), 1)
    )
    verdicts = parse_documents("verdicts.jsonl", export)
    assert [d.weight for d in verdicts.documents] == [VERDICT_WEIGHT, VERDICT_WEIGHT]
    after, _ = train(prepare(small_set() + verdicts.documents), TrainingSettings())
    assert claim(after, near)
    assert not claim(after, also_warned)


def test_cross_validation_holds_out_whole_groups() -> None:
    files = [f for f in bundled_files() if f.name.startswith(("wa-en", "wb-en", "wc-en"))]
    data = prepare([d for f in files for d in f.documents])
    by_writer = cross_validate(data, "writer")
    assert by_writer.folds == 3
    by_type = cross_validate(data, "page type")
    assert by_type.folds == 8
    for result in (by_writer, by_type):
        rules, model = result.readers["rules"], result.readers["model"]
        # Every document is decided once by each reader.
        assert sum(vars(rules.overall).values()) == sum(vars(model.overall).values()) == len(data)
        assert set(model.by_language) == {"en"}
        assert set(model.by_page_type) == {d.page_type for d in data.documents}
    # The rules need no training: both ways of holding out give them the same figures.
    assert by_writer.readers["rules"].as_json() == by_type.readers["rules"].as_json()
    rows = side_by_side([by_type, by_writer])
    assert rows[0][:2] == ["all", "all"]
    assert all(len(row) == 6 for row in rows)


def test_the_card_names_its_data_and_figures() -> None:
    files = [f for f in bundled_files() if f.name.startswith("wa-")]
    data = prepare([d for f in files for d in f.documents])
    settings = TrainingSettings()
    model, trained = train(data, settings)
    card = build_card(model, files, data, trained, settings)
    assert card["kind"] == "evidence"
    assert card["version"] == model.version
    assert card["threshold"] == round(model.threshold, 6)
    assert [f["sha256"] for f in card["data"]["files"]] == [f.sha256 for f in files]
    assert set(card["metrics"]["model"]["by_language"]) == {"en", "es", "hi", "id", "pt", "sk"}
    assert set(card["metrics"]["rules"]["by_page_type"]) == {str(n) for n in range(1, 25)}
    out_of_fold = trained.probabilities >= trained.threshold
    flagged = out_of_fold.sum()
    assert card["metrics"]["precision"] == round(float(data.labels[out_of_fold].sum() / flagged), 3)
    assert np.all((trained.probabilities >= 0) & (trained.probabilities <= 1))
    assert "language hi" in render(card)


def test_the_held_out_pages_are_never_trained_on() -> None:
    held_out = holdout_set()
    assert len(held_out) == 144
    assert {d["writer"] for d in held_out} == {"wd", "we"}
    assert all(
        sum(d["lang"] == lang for d in held_out) == 24
        for lang in ("en", "es", "hi", "id", "pt", "sk")
    )
    trained = {doc.writer for f in bundled_files() for doc in f.documents}
    assert trained.isdisjoint({"wd", "we"})
