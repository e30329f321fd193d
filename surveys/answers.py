"""A member's reply to a survey question, understood as a person would: "1,3", "1 et 3", "١", "3️⃣",
"salud y vivienda", "oui", "42". Pure: no database.

The interface is fixed (the survey engine calls it); the parsing below is the first, minimal version
(ASCII digits, exact labels, English yes/no) that the parser's own work replaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChoiceSpec:
    position: int  # the number members reply with
    labels: tuple[str, ...]  # the choice's label in each of the leader's languages
    synonyms: tuple[str, ...] = ()  # other words for it the team wrote, in any language


@dataclass(frozen=True)
class Parsed:
    choices: tuple[int, ...] = ()  # positions, for single and multiple choice (and yes/no: 1 yes, 2 no)
    value: str = ""  # normalised: the number as digits, "yes" or "no", the free text


def answer_parse(
    *,
    kind: str,
    text: str,
    choices: Sequence[ChoiceSpec] = (),
    language: str = "",
    number_min: int | None = None,
    number_max: int | None = None,
) -> Parsed | None:
    """What the reply says for a question of `kind` (surveys.models.Question.Kind values), or None when it
    is unclear (the engine asks again, once, with the options)."""
    text = text.strip()
    if not text:
        return None
    if kind == "text":
        return Parsed(value=text)
    if kind == "yes_no":
        word = text.lower().strip(".!")
        if word in ("yes", "y"):
            return Parsed(choices=(1,), value="yes")
        if word in ("no", "n"):
            return Parsed(choices=(2,), value="no")
        return None
    if kind == "number":
        if re.fullmatch(r"-?\d+", text):
            number = int(text)
            if (number_min is None or number >= number_min) and (number_max is None or number <= number_max):
                return Parsed(value=str(number))
        return None
    positions = {choice.position for choice in choices}
    picked = [int(d) for d in re.findall(r"\d+", text)]
    if not picked:
        lowered = text.lower()
        picked = [c.position for c in choices if any(label.lower() == lowered for label in c.labels)]
    if not picked or any(p not in positions for p in picked):
        return None
    picked = sorted(set(picked))
    if kind == "single" and len(picked) != 1:
        return None
    return Parsed(choices=tuple(picked), value=",".join(map(str, picked)))
