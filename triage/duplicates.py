"""Copies of one text (a copy-paste campaign) grouped, so forty thousand identical texts are one row to read.

- Exact copies share a fingerprint: the hash of the text folded (case, accents, Arabic vowel marks, spacing,
  punctuation and emoji dropped), so "Fund our hospitals!!! 🙏" and "fund our hospitals" are one group. A text
  that is nothing but emoji or punctuation keeps its own characters as its key ("👍" is not "❤️").
- Near copies (a word changed, a name added) join the group of the closest recent text: MinHash signatures of
  the folded text's character 4-grams, looked up by locality-sensitive hashing (bands of the signature), and
  kept when the estimated resemblance (Jaccard) is at least NEAR_SIMILARITY. Chosen over sentence embeddings
  because it costs no second encoding of each text (the classifier's encoder is the pipeline's most expensive
  step) and judges wording, not meaning: two texts that say the same in other words are not copies.
  docs/architecture.md ("Triage: the pipeline") has the figures.

The near-copy index is per leader and per process, of its most recent RECENT_GROUPS groups: after a restart
a near copy of an older text starts a group of its own (exact copies still join theirs, by the table's
fingerprint).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

SHINGLE = 4  # characters per shingle
# 64 functions: the resemblance estimate's spread at 0.85 is about 0.045, so a near copy of that resemblance
# misses NEAR_SIMILARITY about once in two hundred (with 32 it was one in twenty-five).
HASHES = 64  # MinHash functions
BANDS = 16  # LSH bands of HASHES // BANDS rows: candidates from about 0.5 resemblance up
NEAR_SIMILARITY = 0.75  # estimated Jaccard of the shingles from which a text joins a group
NEAR_MIN_LENGTH = 24  # folded characters: shorter texts ("thank you so much") group by exact copy only
RECENT_GROUPS = 20_000  # per leader and process

_rng = np.random.default_rng(20261206)  # fixed: signatures comparable across batches of one process
_A = _rng.integers(0, 1 << 63, size=HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
_B = _rng.integers(0, 1 << 63, size=HASHES, dtype=np.uint64)
_ROWS = HASHES // BANDS
_POLY = np.uint64(0x100000001B3)  # the shingle key's multiplier (odd; FNV's 64-bit prime)


# Combining marks (accents, Arabic harakat) and tatweel, Arabic's stretching stroke.
_MARKS = re.compile(
    "[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u0640\u06d6-\u06ed\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, spacing, emoji: one space


def text_fold(text: str) -> str:
    """The text as its copies share it: lower case, no accents or vowel marks, letters and digits only, one
    space between words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _NOT_WORD.sub(" ", _MARKS.sub("", decomposed)).strip()


def fingerprint(text: str) -> str:
    """The exact-copy key of a text (64 hex characters at most, as DuplicateGroup.fingerprint)."""
    return _print(text_fold(text), text)


def _print(folded: str, text: str) -> str:
    key = folded if folded else "\x00" + "".join(text.split())
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def signatures(folded: Sequence[str]) -> np.ndarray:
    """(len(folded), HASHES) minimum hashes of each folded text's shingles, in one numpy pass for the batch."""
    if not folded:
        return np.zeros((0, HASHES), dtype=np.uint32)
    padded = [f" {text} ".ljust(SHINGLE) for text in folded]
    lengths = np.fromiter((len(text) for text in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - SHINGLE + 1
    # Each shingle's code points as one 64-bit polynomial key: the same text gives the same signature in
    # every process (Python's str hash is salted per process, so the grouping would vary run to run).
    key = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        key = key * _POLY + codes[offset : offset + count]
    # Keep the shingles that lie inside one text, not across two.
    shingles = lengths - SHINGLE + 1
    starts = np.cumsum(shingles) - shingles  # each text's first row in `hashed`
    within = np.arange(shingles.sum()) - np.repeat(starts, shingles)
    hashed = key[np.repeat(np.cumsum(lengths) - lengths, shingles) + within]
    # Multiply-shift hashing (a odd, 64-bit wrap-around, the high half kept): a universal family.
    mixed = ((hashed[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)).astype(np.uint32)
    return np.minimum.reduceat(mixed, starts, axis=0)


class NearIndex:
    """One leader's recent groups by MinHash bands: group fingerprint ↔ signature."""

    def __init__(self, size: int = RECENT_GROUPS) -> None:
        self.size = size
        self.groups: OrderedDict[str, np.ndarray] = OrderedDict()
        self.bands: dict[bytes, str] = {}
        # A near copy's own fingerprint -> the group it joined, so its exact copies join it too.
        self.joined: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def _keys(sig: np.ndarray) -> list[bytes]:
        return [bytes([band]) + sig[band * _ROWS : (band + 1) * _ROWS].tobytes() for band in range(BANDS)]

    def closest(self, sig: np.ndarray) -> str | None:
        best, best_similarity = None, NEAR_SIMILARITY
        for key in self._keys(sig):
            group = self.bands.get(key)
            if group is None or group == best:
                continue
            other = self.groups.get(group)
            if other is None:
                continue
            similarity = float(np.count_nonzero(other == sig)) / HASHES
            if similarity >= best_similarity:
                best, best_similarity = group, similarity
        return best

    def add(self, group: str, sig: np.ndarray) -> None:
        if group in self.groups:
            self.groups.move_to_end(group)
            return
        self.groups[group] = sig
        for key in self._keys(sig):
            self.bands[key] = group
        while len(self.groups) > self.size:
            old, old_sig = self.groups.popitem(last=False)
            for key in self._keys(old_sig):
                if self.bands.get(key) == old:
                    del self.bands[key]

    def join(self, own: str, group: str) -> None:
        self.joined[own] = group
        self.joined.move_to_end(own)
        while len(self.joined) > self.size:
            self.joined.popitem(last=False)


_indexes: dict[str, NearIndex] = {}


def near_index(schema_name: str) -> NearIndex:
    index = _indexes.get(schema_name)
    if index is None:
        index = _indexes.setdefault(schema_name, NearIndex())
    return index


def groups_assign(
    *, schema_name: str, texts: Sequence[str], known: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """For each text, (its own fingerprint, the fingerprint of the group it belongs to). `known` holds
    fingerprints that already have a group in the leader's table: an exact copy always joins its own group.
    A text that is neither an exact copy of a group nor near one starts its own."""
    known = known or set()
    index = near_index(schema_name)
    own_prints: list[str] = []
    groups: list[str] = []
    folded = [text_fold(text) for text in texts]
    long_enough = [i for i, text in enumerate(folded) if len(text) >= NEAR_MIN_LENGTH]
    computed = signatures([folded[i] for i in long_enough])
    sigs: dict[int, np.ndarray] = {i: computed[k] for k, i in enumerate(long_enough)}
    with index.lock:
        for i, text in enumerate(texts):
            own = _print(folded[i], text)
            own_prints.append(own)
            if own in index.groups:
                groups.append(own)
                continue
            if own in index.joined:
                groups.append(index.joined[own])
                continue
            sig = sigs.get(i)
            group = own
            if own not in known and sig is not None:
                near = index.closest(sig)
                if near is not None:
                    group = near
            if group == own:
                if sig is not None:
                    index.add(own, sig)
                known.add(own)
            else:
                index.join(own, group)
            groups.append(group)
    return own_prints, groups
