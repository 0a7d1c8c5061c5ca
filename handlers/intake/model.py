"""The intake's learned half: linear models over character n-grams and lexicon scores, trained on the corpus."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).with_name("corpus") / "intake.jsonl"
KINDS = ("complaint", "none", "wish")
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# How hard each model is regularised (LinearSVC's C); chosen by the cross-validated figures of bench/reader.py.
_C = {"kind": 0.3, "category": 0.1, "urgent": 0.3}
_CACHE: dict[str, Model] = {}


def features(norm: str, signals: dict[str, float]) -> dict[str, float]:
    """Character 1–3-grams of a normalised message (digits as 0: a building number says nothing of the
    problem) and the rules' signals, the lexicon's scores scaled to about 1."""
    # ^ and $ mark the ends: "…了吗$" asks, "^通知" announces.
    text = "^" + _SPACES.sub(" ", _DIGITS.sub("0", norm)) + "$"
    found = dict(signals)
    for n in (1, 2, 3):
        for i in range(len(text) - n + 1):
            found[text[i:i + n]] = 1.0
    return found


@dataclass
class _Linear:
    """A fitted linear model as plain numbers: per feature, one weight per class."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]

    def scores(self, found: dict[str, float]) -> dict[str, float]:
        """Each class's margin: the bias plus the summed weights of the features found (for two classes, the
        second class's margin, and its negative for the first)."""
        scores = list(self.bias)
        for name, value in found.items():
            row = self.weights.get(name)
            if row is not None:
                scores = [s + w * value for s, w in zip(scores, row)]
        if len(self.classes) == 2:
            return {self.classes[0]: -scores[0], self.classes[1]: scores[0]}
        return dict(zip(self.classes, scores))


@dataclass
class Model:
    """Three fitted models: the kind of a message, the category of a request, and whether it is urgent."""

    kind: _Linear
    category: _Linear
    urgent: _Linear


def _fit(samples: list[dict[str, float]], labels: list, c: float) -> _Linear:
    # Imported here, not at import time: only start-up training needs scikit-learn, reading does not.
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.svm import LinearSVC

    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform(samples)
    # 32-bit indices: what liblinear takes without copying. A linear SVM fits in a few hundredths of a second
    # here, where logistic regression's solvers took seconds for the same accuracy.
    matrix.indices, matrix.indptr = matrix.indices.astype("int32"), matrix.indptr.astype("int32")
    fitted = LinearSVC(C=c).fit(matrix, labels)
    coef = fitted.coef_
    names = vectoriser.get_feature_names_out()
    # Keep only features that matter, so the weights stay small to hold and fast to sum.
    weights = {name: tuple(float(w) for w in coef[:, j]) for j, name in enumerate(names)
               if abs(coef[:, j]).max() > 1e-4}
    return _Linear(tuple(str(c) for c in fitted.classes_), tuple(float(b) for b in fitted.intercept_), weights)


def train(samples: list[dict[str, float]], rows: list[dict]) -> Model:
    """Fit the three models on feature dicts of labelled rows (the corpus format)."""
    requests = [(s, r["category"]) for s, r in zip(samples, rows) if r["kind"] != "none"]
    return Model(kind=_fit(samples, [r["kind"] for r in rows], _C["kind"]),
                 category=_fit([s for s, _ in requests], [c for _, c in requests], _C["category"]),
                 urgent=_fit(samples, ["urgent" if r["urgent"] else "calm" for r in rows], _C["urgent"]))


def load_rows(path: Path = CORPUS) -> list[dict]:
    """The labelled lines of a corpus file."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def trained(reader, path: Path = CORPUS) -> Model:
    """The model for this reader's rules and this corpus, trained once per process: apps are built often
    (every test builds one) and training takes a noticeable fraction of a second."""
    raw = path.read_bytes()
    key = hashlib.sha256(raw + repr(reader.fingerprint).encode()).hexdigest()
    if key not in _CACHE:
        rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
        _CACHE[key] = train([reader.features(row["text"]) for row in rows], rows)
    return _CACHE[key]
