"""The language a text is written in, offline: py3langid's naive Bayes model over byte n-grams, restricted to the
languages fans of our leaders write in. Chosen over lingua by measurement (docs/architecture.md, "Triage:
language and topic"): as accurate on short, misspelled and mixed texts, and five to seven times faster."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# The languages a text can be given. Restricting the model is what makes it reliable on three-word texts: over
# its 97 languages "felicidades!!" is Galician and "thank u sir" Croatian. The sentence encoder's own languages
# (a topic is only understood in those), then widely spoken ones with their own script (nothing of theirs is
# mistaken for a Latin-script text) and a few large Latin-script ones.
LANGUAGES = (
    # the multilingual sentence encoder's
    "ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh",
    # own scripts
    "am", "bn", "el", "fa", "he", "hi", "hy", "ka", "km", "ta", "te", "uk", "ur",
    # Latin script, large
    "id", "ro", "sw", "tl", "vi",
)  # fmt: skip

# Below this many letters there is nothing to tell a language from ("ok", "hi", "lol", "?", "12345", "🙏").
MIN_LETTERS = 4
# The model's normalised probability below which its answer is a guess ("hmm", "xD"): the text has no language.
MIN_CONFIDENCE = 0.3

# Links and handles say nothing of the language and tip short texts into the wrong one.
_NOISE = re.compile(r"https?://\S+|www\.\S+|\b\S+\.(?:com|ly|me|org|net|io)/\S*|[@#]\w+")

_identifier: LanguageIdentifier | None = None
_lock = threading.Lock()


def identifier() -> LanguageIdentifier:
    """The process's one identifier, loaded on first use (the model takes a fraction of a second and 20 MB)."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                loaded = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                loaded.set_languages(LANGUAGES)
                _identifier = loaded
    return _identifier


def letters_count(text: str) -> int:
    return sum(1 for char in text if char.isalpha())


def language_detect(text: str) -> str:
    """ISO 639-1 code of the text's language, "" when it cannot be told."""
    text = _NOISE.sub(" ", text)
    if letters_count(text) < MIN_LETTERS:
        return ""
    # A text in capitals is lowered by the model itself.
    language, confidence = identifier().classify(text)
    return language if confidence >= MIN_CONFIDENCE else ""


def languages_detect(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code of each text's language, "" when it cannot be told (an emoji, "ok")."""
    languages = {text: language_detect(text) for text in dict.fromkeys(texts)}  # a campaign's copies once
    return [languages[text] for text in texts]
