"""Train the evidence reader's claim model: logistic regression over the text's character n-grams
and the rules' signals, calibrated, with its threshold chosen on held-out page types.

The text is represented as scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
ngram_range=(2, 5), min_df=2, sublinear_tf=True)`` represents it (a ``CountVectorizer`` over
every document once, then the columns and IDF weights of each training set: the same numbers,
without counting the n-grams again for every fold). The rules' signals (``claims.SIGNALS``) are
counts, taken as ``log1p`` and scaled down so that the penalty keeps them from outvoting the text:
on held-out page types the text ranks pages better than the signals do, and the signals add what
the rules know about voices and vetoes.

The probability is calibrated by Platt scaling on out-of-fold scores, the folds holding out
whole page types (the harder generalisation: a kind of page never seen), and the operating
threshold is the lowest at which those out-of-fold decisions keep the precision target. Both
travel with the model (``claim_model.ClaimModel``), as JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from tasks.evidence.reading.analysis import MAX_ANALYSED_CHARS
from tasks.evidence.reading.claim_model import FORMAT, NGRAM_RANGE, ClaimModel
from tasks.evidence.reading.claims import SIGNALS, read_claims
from tasks.evidence.reading.html_text import to_text
from tasks.offline.evidence_documents import LabelledDocument

PRECISION_TARGET = 0.9


@dataclass(frozen=True)
class TrainingSettings:
    # Chosen by the grouped cross-validation (``bulkguard evidence evaluate --grouped``) among
    # C of 3 to 100 and signal scales of 0 to 0.2: light regularisation, and signals that count
    # about a thirtieth of their raw size (at 0.1 and above they outvote the text and overfit
    # the page types seen; at 0 the voices and vetoes are lost).
    c: float = 100.0  # inverse regularisation strength of the logistic regression
    signal_scale: float = 0.035  # the rules' signals' scale beside the unit-length text vector
    min_df: int = 2  # an n-gram must occur in this many training documents
    # The most frequent n-grams kept beyond that. 50,000 does as well on held-out writers and
    # one Portuguese page worse on held-out page types; 100,000 is a 4.7 MB model, loaded in
    # under a tenth of a second.
    max_ngrams: int = 100_000
    folds: int = 5  # out-of-fold scoring for the calibration and the threshold
    precision_target: float = PRECISION_TARGET


@dataclass
class Prepared:
    """Labelled documents as the reader reads them: text, the rules' signals and verdict, and
    the n-gram counts of every document."""

    documents: list[LabelledDocument]
    texts: list[str]
    signals: npt.NDArray[np.float64]  # log1p of each of SIGNALS
    rules: npt.NDArray[np.bool_]  # the rules' verdict
    counts: sp.csr_matrix  # documents x every n-gram seen
    ngrams: npt.NDArray[np.str_]  # the n-gram of each column of counts
    labels: npt.NDArray[np.int8]
    weights: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.documents)


def prepare(documents: Sequence[LabelledDocument]) -> Prepared:
    texts = [to_text(d.text[:MAX_ANALYSED_CHARS]) for d in documents]
    readings = [read_claims(text) for text in texts]
    signals = np.array([[r.signals[name] for name in SIGNALS] for r in readings], dtype=float)
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, dtype=np.float64)
    counts = sp.csr_matrix(vectorizer.fit_transform(texts))
    return Prepared(
        documents=list(documents),
        texts=texts,
        signals=np.log1p(np.maximum(signals, 0.0)),
        rules=np.array([r.verdict.is_claim for r in readings], dtype=bool),
        counts=counts,
        ngrams=vectorizer.get_feature_names_out(),
        labels=np.array([d.label for d in documents], dtype=np.int8),
        weights=np.array([d.weight for d in documents], dtype=float),
    )


@dataclass(frozen=True)
class Fitted:
    """A logistic regression over the columns ``columns`` of the prepared counts."""

    columns: npt.NDArray[np.intp]
    tfidf: TfidfTransformer
    text_coef: npt.NDArray[np.float64]
    signal_coef: npt.NDArray[np.float64]  # per log1p signal, the scale folded in
    intercept: float

    def logits(self, data: Prepared, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        text = self.tfidf.transform(data.counts[rows][:, self.columns])
        out = text @ self.text_coef + data.signals[rows] @ self.signal_coef + self.intercept
        return np.asarray(out, dtype=float)


def fit(data: Prepared, rows: npt.NDArray[np.intp], settings: TrainingSettings) -> Fitted:
    sub = data.counts[rows]
    df = np.asarray((sub > 0).sum(axis=0)).ravel()
    columns = np.flatnonzero(df >= settings.min_df)
    if len(columns) > settings.max_ngrams:
        # The most frequent n-grams, ties by the n-gram itself, so a retrain is reproducible.
        totals = np.asarray(sub[:, columns].sum(axis=0)).ravel()
        order = np.lexsort((data.ngrams[columns], -totals))
        columns = np.sort(columns[order[: settings.max_ngrams]])
    tfidf = TfidfTransformer(sublinear_tf=True).fit(sub[:, columns])
    features = sp.hstack(
        [tfidf.transform(sub[:, columns]), settings.signal_scale * data.signals[rows]]
    ).tocsr()
    model = LogisticRegression(C=settings.c, class_weight="balanced", max_iter=5000)
    # One thread: the fits are small, and BLAS threads fighting over shared cores cost tenfold.
    with threadpool_limits(1):
        model.fit(features, data.labels[rows], sample_weight=data.weights[rows])
    coef = model.coef_.ravel()
    return Fitted(
        columns=columns,
        tfidf=tfidf,
        text_coef=coef[: len(columns)],
        signal_coef=coef[len(columns) :] * settings.signal_scale,
        intercept=float(model.intercept_[0]),
    )


def out_of_fold(
    data: Prepared,
    rows: npt.NDArray[np.intp],
    groups: Sequence[str],
    settings: TrainingSettings,
) -> npt.NDArray[np.float64]:
    """Each row's logit from a model that did not see its group (``groups`` per row of data)."""
    out = np.zeros(len(rows))
    row_groups = np.array([groups[i] for i in rows])
    folds = min(settings.folds, len(set(row_groups)))
    if folds < 2:
        raise ValueError("out-of-fold scores need documents of at least two page types")
    for inner_train, inner_test in GroupKFold(n_splits=folds).split(rows, groups=row_groups):
        if len(set(data.labels[rows[inner_train]])) < 2:
            raise ValueError("a fold holds documents of one class only: label more documents")
        out[inner_test] = fit(data, rows[inner_train], settings).logits(data, rows[inner_test])
    return out


@dataclass(frozen=True)
class Calibration:
    slope: float
    intercept: float

    def probability(self, logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(1.0 / (1.0 + np.exp(-(self.slope * logits + self.intercept))))


def calibrate(logits: npt.NDArray[np.float64], labels: npt.NDArray[np.int8]) -> Calibration:
    """Platt scaling: a one-feature logistic regression of the labels on held-out logits."""
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), labels)
    return Calibration(float(platt.coef_[0, 0]), float(platt.intercept_[0]))


def choose_threshold(
    probabilities: npt.NDArray[np.float64], labels: npt.NDArray[np.int8], target: float
) -> float:
    """The lowest probability at which the documents at or above it are claims with at least
    ``target`` precision: the most recall that keeps the target. 1.0 when none does."""
    order = np.argsort(-probabilities, kind="stable")
    ranked = probabilities[order]
    true_positives = np.cumsum(labels[order])
    # A cut between equal probabilities cannot be made: precision is read where they end.
    ends = np.flatnonzero(np.append(ranked[1:] < ranked[:-1], True))
    precision = true_positives[ends] / (ends + 1)
    keeping = ends[precision >= target]
    return float(ranked[keeping.max()]) if len(keeping) else 1.0


@dataclass(frozen=True)
class Trained:
    """A fitted model with the calibration and threshold from its out-of-fold scores."""

    fitted: Fitted
    calibration: Calibration
    threshold: float
    probabilities: npt.NDArray[np.float64]  # out-of-fold, per training row


def train_rows(
    data: Prepared,
    rows: npt.NDArray[np.intp],
    groups: Sequence[str],
    settings: TrainingSettings,
) -> Trained:
    """Fit on ``rows``; calibrate and set the threshold on their scores out of fold."""
    held_out = out_of_fold(data, rows, groups, settings)
    calibration = calibrate(held_out, data.labels[rows])
    probabilities = calibration.probability(held_out)
    threshold = choose_threshold(probabilities, data.labels[rows], settings.precision_target)
    return Trained(fit(data, rows, settings), calibration, threshold, probabilities)


def page_type_groups(data: Prepared) -> list[str]:
    return [d.page_type for d in data.documents]


def writer_groups(data: Prepared) -> list[str]:
    return [d.writer for d in data.documents]


def export(data: Prepared, trained: Trained, settings: TrainingSettings) -> dict[str, Any]:
    """The model as data (``claim_model.FORMAT``), its version named by the hash of the rest."""
    fitted = trained.fitted
    spec: dict[str, Any] = {
        "format": FORMAT,
        "threshold": trained.threshold,
        "precision_target": settings.precision_target,
        "intercept": fitted.intercept,
        "calibration": asdict(trained.calibration),
        "text": {
            "analyzer": "char_wb",
            "ngram_range": list(NGRAM_RANGE),
            "lowercase": True,
            "sublinear_tf": True,
            "ngrams": data.ngrams[fitted.columns].tolist(),
            "idf": fitted.tfidf.idf_.tolist(),
            "coef": fitted.text_coef.tolist(),
        },
        "signals": {
            "transform": "log1p",
            "names": list(SIGNALS),
            "coef": fitted.signal_coef.tolist(),
        },
    }
    digest = hashlib.sha256(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return {"version": f"evidence-{stamp}-{digest}", **spec}


def train(data: Prepared, settings: TrainingSettings) -> tuple[ClaimModel, Trained]:
    """The claim model on every document of ``data``."""
    rows = np.arange(len(data))
    trained = train_rows(data, rows, page_type_groups(data), settings)
    return ClaimModel(export(data, trained, settings)), trained
