"""The intake's learned half: linear models over character n-grams and lexicon scores, trained on the corpus.

Linear SVMs, trained at start-up in well under a second, were as good as every alternative tried on the
cross-validated figures (logistic regression, class weights, tf-idf, a small neural network, 4-grams, n-grams of
the text with problem words replaced by one placeholder); what moved the figures were more and more varied
labelled lines and the lexicon's general chatter patterns (a problem over, a fix under way, advice, how-to
questions), and the lexicon's cues, how a message is said (a question about progress, a fix that is over, a tip,
news, praise, a notice, an ask), which cut chatter read as a request by about half a point. Then copies of each
line with its topic swapped for another (swaps.py), for the kind model alone: read by a model trained without and
with them, 603 fresh lines scored kind 93.7 → 94.5%, category 83.6 → 84.6%, chatter offered 4.5 → 4.2%; words from
a segmenter (jieba) beside the n-grams gave nothing on the same lines and cost 60 MB. The reader cuts the kind
model's margins with thresholds chosen in cross-validation (reader.py).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from handlers.intake.swaps import copies

CORPUS = Path(__file__).with_name("corpus") / "intake.jsonl"
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# How hard each model is regularised (LinearSVC's C); chosen by the cross-validated figures of bench/reader.py.
_C = {"kind": 0.3, "category": 0.1, "urgent": 0.3}
_CACHE: dict[str, Model] = {}
_RULES_OWN = ("alarm:", "rule:")  # features that are the rules' own verdict on urgency


def features(norm: str, signals: dict[str, float]) -> dict[str, float]:
    """Character 1–3-grams of a normalised message (digits as 0: a building number says nothing of the
    problem) and the rules' signals."""
    # ^ and $ mark the ends: "…了吗$" asks, "^通知" announces.
    text = "^" + _SPACES.sub(" ", _DIGITS.sub("0", norm)) + "$"
    found = dict(signals)
    for n in (1, 2, 3):
        for i in range(len(text) - n + 1):
            found[text[i:i + n]] = 1.0
    return found


@dataclass
class Model:
    """Three fitted linear models sharing one vocabulary: the kind of a message, the category of a request,
    and whether it is urgent. Each column of `weights` is one class of one model."""

    vocabulary: dict[str, int]
    weights: np.ndarray                    # features × classes
    bias: np.ndarray                       # classes
    classes: dict[str, tuple[str, ...]]    # model name → its classes, in column order

    def scores(self, found: dict[str, float]) -> dict[str, dict[str, float]]:
        """Each model's margin for each of its classes (a two-class model: the second class's margin and
        its negative), from the features found in one message."""
        rows, values = [], []
        for name, value in found.items():
            if (row := self.vocabulary.get(name)) is not None:
                rows.append(row)
                values.append(value)
        margins = (self.bias + np.asarray(values) @ self.weights[rows]).tolist()
        out, start = {}, 0
        for model, classes in self.classes.items():
            if len(classes) == 2:
                out[model] = {classes[0]: -margins[start], classes[1]: margins[start]}
                start += 1
            else:
                out[model] = dict(zip(classes, margins[start:start + len(classes)]))
                start += len(classes)
        return out


def train(samples: list[dict[str, float]], rows: list[dict]) -> Model:
    """Fit the three models on feature dicts of labelled rows (the corpus format); rows marked `copy` (swaps.py)
    teach the kind model only."""
    # Imported here, not at import time: only training needs scikit-learn, reading does not.
    from scipy.sparse import diags
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.svm import LinearSVC

    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform(samples)
    # 32-bit indices: what liblinear takes without copying. A linear SVM fits in a few hundredths of a second
    # here, where logistic regression's solvers took seconds for the same accuracy.
    matrix.indices, matrix.indptr = matrix.indices.astype("int32"), matrix.indptr.astype("int32")
    own = [i for i, row in enumerate(rows) if not row.get("copy")]
    requests = [i for i in own if rows[i]["kind"] != "none"]
    taught = {"kind": range(len(rows)), "category": requests, "urgent": own}
    labels = {"kind": [row["kind"] for row in rows], "category": [rows[i]["category"] for i in requests],
              "urgent": ["urgent" if rows[i]["urgent"] else "calm" for i in own]}
    # A fixed random_state: liblinear shuffles, and the same corpus must give the same reader every time.
    # The urgent model sees neither the rules' alarms nor their verdict: trained with them it learned only to
    # repeat the rules (on 1,600 fresh lines it caught 3 of the 57 emergencies they missed); without, it learns
    # how an emergency is told (出不去, 快来人, 进不去, 在喊) and caught 43 of them.
    names = vectoriser.get_feature_names_out()
    blind = (matrix @ diags([0.0 if name.startswith(_RULES_OWN) else 1.0 for name in names])).tocsr()
    blind.eliminate_zeros()
    blind.indices, blind.indptr = blind.indices.astype("int32"), blind.indptr.astype("int32")
    seen = {"kind": matrix, "category": matrix, "urgent": blind}
    fits = {name: LinearSVC(C=_C[name], random_state=0).fit(seen[name][list(taught[name])], labels[name])
            for name in labels}
    return Model(vocabulary={name: i for i, name in enumerate(names)},
                 weights=np.hstack([fit.coef_.T for fit in fits.values()]),
                 bias=np.concatenate([fit.intercept_ for fit in fits.values()]),
                 classes={name: tuple(str(c) for c in fit.classes_) for name, fit in fits.items()})


def load_rows(path: Path = CORPUS) -> list[dict]:
    """The labelled lines of a corpus file."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def trained(reader, path: Path = CORPUS) -> Model:
    """The model for this reader's rules and this corpus, trained once and then kept, in the process and in the
    user's cache folder: apps are built often (every test and every `doorstep` command builds one) and importing
    scikit-learn and training take a second or more.

    Trained in a child process (`python -m handlers.intake.model`), which gets the features as JSON and gives back
    the weights in NumPy's own format (no pickle): scikit-learn and training's peak (~150 MB) never enter the bot,
    which only sums weights when reading."""
    raw = path.read_bytes()
    # What training depends on: the corpus, the lexicon, the code that turns a message into features, the library.
    code = b"".join(source.read_bytes() for source in sorted(Path(__file__).parent.glob("*.py")))
    key = hashlib.sha256(raw + reader.fingerprint.encode() + code + version("scikit-learn").encode()).hexdigest()
    if key not in _CACHE:
        kept = _kept_file(key)
        try:
            _CACHE[key] = _from_bytes(kept.read_bytes())
        except (OSError, ValueError, EOFError):  # not kept yet, or kept by another version
            rows = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
            rows += copies(rows, reader.lexicon)
            data = _trained_elsewhere([reader.features(row["text"]) for row in rows], rows)
            _keep(kept, data)
            _CACHE[key] = _from_bytes(data)
    return _CACHE[key]


def _kept_file(key: str) -> Path:
    """Where the weights trained for this corpus and lexicon are kept between runs: the user's cache folder.
    Every `doorstep` command and restart would otherwise train again (a second or two each)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "doorstep" / f"intake-model-{key[:32]}.bin"


def _keep(kept: Path, data: bytes) -> None:
    """Keep trained weights for the next start; a cache that cannot be written is only slower, never wrong."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        part = kept.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(data)
        part.replace(kept)  # whole or absent: a start that reads it meanwhile never sees half a file
        # Each edit of the lexicon or corpus trains anew: keep the few newest (several checkouts may share it).
        for old in sorted(kept.parent.glob("intake-model-*.bin"), key=lambda f: f.stat().st_mtime)[:-4]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _trained_elsewhere(samples: list[dict[str, float]], rows: list[dict]) -> bytes:
    labels = [{k: row.get(k) for k in ("kind", "category", "urgent", "copy")} for row in rows]
    done = subprocess.run([sys.executable, "-m", "handlers.intake.model"], capture_output=True, check=True,
                          input=json.dumps({"samples": samples, "rows": labels}).encode(),
                          cwd=Path(__file__).resolve().parents[2])
    return done.stdout


def _to_bytes(model: Model) -> bytes:
    out = io.BytesIO()
    head = json.dumps({"vocabulary": list(model.vocabulary), "classes": model.classes}).encode()
    out.write(len(head).to_bytes(8, "big") + head)
    np.save(out, model.weights, allow_pickle=False)
    np.save(out, model.bias, allow_pickle=False)
    return out.getvalue()


def _from_bytes(data: bytes) -> Model:
    size = int.from_bytes(data[:8], "big")
    head = json.loads(data[8:8 + size])
    arrays = io.BytesIO(data[8 + size:])
    weights, bias = np.load(arrays, allow_pickle=False), np.load(arrays, allow_pickle=False)
    return Model(vocabulary={name: i for i, name in enumerate(head["vocabulary"])}, weights=weights, bias=bias,
                 classes={name: tuple(classes) for name, classes in head["classes"].items()})


if __name__ == "__main__":  # the child process of trained(): features in on stdin, weights out on stdout
    given = json.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(_to_bytes(train(given["samples"], given["rows"])))
