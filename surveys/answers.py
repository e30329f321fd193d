"""A member's reply to a survey question, understood as a person would: "1,3", "1 et 3", "١", "3️⃣",
"salud y vivienda", "oui", "j'ai 34 ans". Pure: no database, no network.

What is understood, in any of the platform's languages (en, fr, es, ar, de) whatever the member's language:
- digits in any script (ASCII, Arabic-Indic, Persian, full-width, circled...) and keycap emoji (1️⃣ … 🔟);
- lists: "1,3", "1 3", "1 et 3", "1 y 3", "1 and 3", "1 & 3", "1و3", "1/3", ranges ("1 to 3", "del 1 al 3",
  "1-3"), and run-together digits ("13") when every option is one digit and 13 is not an option;
- choice labels in any of the leader's languages and the team's synonyms, whole or by a word of theirs that
  no other choice shares (not "do", "make", "can": "faire" does not name "Faire un don"); case, accents
  and Arabic vowel marks folded, and the Arabic letters the dialects speak otherwise written as spoken
  ("التانية" for "الثانية"); small typos tolerated (edit distance scaled to the word's length), plurals,
  compounds and other forms of a stem ("healthcare" for "health"), an Arabic verb's present ("أنشر",
  "بنشر" for "النشر");
- everyday words for what an option says, by concept (a built-in lexicon that joins a reply's word only to
  an option whose label or synonyms belong to the same concept): "my sister", "mi comadre", "خويي" for "A
  friend or family", "le soir" for "Evening", "samedi" and "sat" for "Saturdays" (weekday abbreviations in
  five languages; "Mi", "do", "so", which are other words too, only in a reply of days alone: "Mi, Fr"),
  "weekends" and "les fins de semaine" for Saturdays and Sundays (Fridays and Saturdays in Arabic), "insta"
  and "الفيس" for "Social media", "la télé", "التلفزة" for "TV or radio"; work ("boulot", "chamba",
  "laburo", "الشغل", "Job"), housing, health, schools, safety, transport, the environment, prices, outside
  the city ("en dehors", "برا") or its centre, and volunteering (door-knocking, calling, driving, flyers,
  events);
- German written without umlauts: "Sued" for "Süd" (ae, oe, ue; ß and ss are one already);
- "all" ("anytime"), "both" ("sowohl 3 als auch 4"), "all except 2", "not 2", "the first two", ordinals
  ("first", "la deuxième", "el segundo", "الأول", "1st", "2e", "the 4th one") and number words ("one and
  three", "واحد وثلاثة"); "3 pis 4"; "3 and 4 work" (the options suit, "work" is no fourth thing; "2 doesn't
  work" is unclear);
- "none" ("aucun", "ولا واحدة", "keins"): for a multiple-choice question an answer, Parsed(choices=(),
  value="none"); for a single-choice question unclear;
- a self-correction: "4 no wait, 3", "2, je veux dire 3", "el 1, digo, el 2": what came before is taken back;
- yes/no words and phrases (and 👍/👎), regional ones and slang ("pantoute", "simón", "nei", "واخا",
  "grave", "bet") and Arabic written in Latin letters ("aywa", "la2"), negated ("not sure", "pas d'accord"),
  hedges ("maybe") unclear, except a hedge about later after a clear answer ("Nope, maybe next month": no);
- numbers with words around them ("I'm 34", "j'ai 34 ans", "عمري ٣٤", "thirty-four", "treinta y cuatro"),
  "just me" (one), "7 out of 10" (seven), "wir sind zu viert" (four), "ولا واحدة" (zero); a number given
  roughly ("about 12", "environ 12", "como 12 al mes", "حوالي ١٢").
Unclear is None (the engine asks again, once): out of range, an option that does not exist, several choices
for a single-choice question, contradictions ("yes no", "none, 2"), a number of things ("3 kids") where an
option was asked for, and questions back ("what is 3?").

Measured against three tables of labelled replies written by others (tests/surveys/test_answers_table.py):
the first (497 replies) was read at 0.944 by the first version, blind, then 1.000 once its misreadings were
fixed as general rules; the second, held out (300 replies), was read at 0.927 blind by that corrected
version, and at 1.000 once its misreadings were fixed the same way; the third (250 replies, 50 a language)
at 0.936 blind by the version corrected against both, then 1.000 once fixed the same way. The 1.000
figures are no longer blind; the blind ones are 0.944, 0.927, 0.936.

Speed: it runs inside the inbound webhook. The vocabularies are folded and indexed once at import; the
index of a question's labels is built on its first reply and cached (by the choices themselves, so an edited
question gets a new one); a reply is then one fold, one tokenising regex and a walk over its words.
`python -m bench survey_answers` prints the time a reply takes over the tables.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
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


# ---------------------------------------------------------------------------------------------------------
# Folding: one spelling for what a person reads as the same.

# Keycap emoji: a digit, an optional emoji presentation selector, the enclosing keycap (1️⃣); 🔟 is one symbol.
_KEYCAPS = re.compile("(?:[0-9]\ufe0f?\u20e3|\U0001f51f)+")
_KEYCAP_DIGIT = re.compile("([0-9])\ufe0f?\u20e3|\U0001f51f")
# Digit symbols that compatibility normalisation leaves alone: dingbat circled digits and double circles.
_SYMBOL_DIGITS = str.maketrans(
    {
        **{0x2776 + k: f" {k + 1} " for k in range(10)},  # ❶..❿
        **{0x2780 + k: f" {k + 1} " for k in range(10)},  # ➀..➉
        **{0x278A + k: f" {k + 1} " for k in range(10)},  # ➊..➓
        **{0x24F5 + k: f" {k + 1} " for k in range(10)},  # ⓵..⓾
    }
)
# Accents and other combining marks, Arabic harakat, tatweel and Quranic marks, invisible format characters
# (direction marks, zero-width joiners), variation selectors and emoji skin tones.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u061c\u0640\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u1ab0-\u1aff\u1dc0-\u1dff\u200b-\u200f\u202a-\u202e\u2060-\u2064\u20d0-\u20ff\ufe00-\ufe0f"
    "\ufe20-\ufe2f\ufeff\U0001f3fb-\U0001f3ff]"
)
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of any other script: Arabic-Indic, Persian, ...
# Arabic and Persian spellings used interchangeably (ة as ه, ى and ی as ي, ک as ك); the letters spoken
# otherwise in Egyptian and Levantine Arabic and written as spoken (ث as ت: "التانية" for "الثانية"; ذ as د;
# ظ as ض); Arabic punctuation; every apostrophe as one.
_LETTERS = str.maketrans(
    {
        "\u0629": "\u0647",
        "\u062b": "\u062a",
        "\u0630": "\u062f",
        "\u0638": "\u0636",
        "\u0649": "\u064a",
        "\u06cc": "\u064a",
        "\u06a9": "\u0643",
        "\u06c0": "\u0647",
        "\u060c": ",",
        "\u061b": ";",
        "\u061f": "?",
        "\u066b": ".",
        "\u066c": ",",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "\u0153": "oe",
        "\u00e6": "ae",
        "\u00f8": "o",
        "\u0142": "l",
        "`": "'",
    }
)


def _keycaps_apart(match: re.Match[str]) -> str:
    return " " + " ".join(_keycap_value(m) for m in _KEYCAP_DIGIT.finditer(match.group())) + " "


def _keycaps_together(match: re.Match[str]) -> str:
    return " " + "".join(_keycap_value(m) for m in _KEYCAP_DIGIT.finditer(match.group())) + " "


def _keycap_value(match: re.Match[str]) -> str:
    return match.group(1) or "10"


def _fold(text: str, *, keycaps_together: bool = False) -> str:
    """Lower case; accents, marks and invisible characters dropped; every digit ASCII; Arabic variants one."""
    if text.isascii():
        return text.lower().replace("`", "'")
    text = _KEYCAPS.sub(_keycaps_together if keycaps_together else _keycaps_apart, text)
    text = unicodedata.normalize("NFKD", text.translate(_SYMBOL_DIGITS).casefold())
    text = _MARKS.sub("", text)
    text = _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), text)
    return text.translate(_LETTERS)


# A number, with an ordinal ending when one follows directly ("1st", "2e", "1er", "2º" folds to "2o"); a word
# (letters, inner apostrophes kept for now); any other visible character alone (punctuation, an emoji).
_TOKEN = re.compile(
    r"(\d+)(?:(?:st|nd|rd|th|ere|er|eme|em|e|era|ra|ro|re|da|do|ta|to|va|vo|na|no|ma|mo|te|ter|tes|ten|ste|sten|o|a)"
    r"(?![^\W\d_]))?|([^\W\d_]+(?:'[^\W\d_]+)*)|(\S)"
)
_RUNS = re.compile(r"([^\W\d_])\1{2,}")  # "yesss", "nooon", "ouiii": a letter held down
_WORD_HYPHEN = re.compile(r"(?<=[^\W\d_])[-\u2010\u2011](?=[^\W\d_])")  # "week-end", "trente-quatre": a space
# French (and Italian) elisions: the article or pronoun before an apostrophe is a word of its own
# ("l'emploi" is "l" + "emploi"); elsewhere the apostrophe joins ("don't" is "dont", "I'm" is "im").
_ELISIONS = frozenset({"l", "j", "d", "c", "n", "s", "m", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"})


def _tokens(folded: str) -> list[str]:
    out: list[str] = []
    if "-" in folded or "\u2010" in folded or "\u2011" in folded:
        folded = _WORD_HYPHEN.sub(" ", folded)
    for match in _TOKEN.finditer(folded):
        number, word, other = match.groups()
        if number is not None:
            out.append(number)
        elif word is not None:
            if "'" in word:
                head, _, rest = word.partition("'")
                if head in _ELISIONS:
                    out.append(head)
                    word = rest.replace("'", "")
                else:
                    word = word.replace("'", "")
            out.append(_RUNS.sub(r"\1", word))
        elif other != "'":
            out.append(other)
    return out


def _is_arabic(word: str) -> bool:
    return "\u0600" <= word[0] <= "\u06ff"


_ARABIC_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")


_DOUBLES = re.compile(r"([^\W\d_])\1")


@functools.lru_cache(maxsize=4096)
def _variants(word: str) -> tuple[str, ...]:
    """The word, then for Arabic the word without a leading "and" (و) and without its article (ال, لل...):
    "والسكن" is also "السكن" and "سكن"; last, the word with doubled letters single ("noo", "yess")."""
    doubled = _DOUBLES.search(word) is not None
    if not _is_arabic(word):
        return (word, _DOUBLES.sub(r"\1", word)) if doubled else (word,)
    out = [word]
    if word.startswith("و") and len(word) >= 3:
        out.append(word[1:])
    for form in list(out):
        for article in _ARABIC_ARTICLES:
            if form.startswith(article) and len(form) - len(article) >= 2:
                out.append(form[len(article) :])
                break
    if doubled:
        out.append(_DOUBLES.sub(r"\1", word))
    return tuple(dict.fromkeys(out))


# An Arabic verb's present: the letter of its person (أ, ي, ت, ن), after the future's س or the dialects'
# present and future marks (ب, ح, ه); in the dialects the first person's أ falls after them ("بنشر", I post).
_IMPERFECT = (re.compile("^[سبحه]?[ايتن](?=...)"), re.compile("^[بح](?=...)"))


def _arabic_stems(forms: tuple[str, ...]) -> tuple[str, ...]:
    """An Arabic verb without those letters: "أنشر", "سأنشر", "بنشر" for "نشر"; "أتبرع" for "تبرع"."""
    out: list[str] = []
    for form in forms:
        if _is_arabic(form):
            for prefix in _IMPERFECT:
                stem = prefix.sub("", form)
                if stem != form and stem not in forms and stem not in out:
                    out.append(stem)
    return tuple(out)


def _canonical(word: str) -> str:
    """How a label's word is indexed: Arabic without its article, so "الصحة" and "صحة" meet."""
    return word[2:] if word.startswith("ال") and len(word) >= 4 else word


# ---------------------------------------------------------------------------------------------------------
# Vocabularies. Each entry is a phrase (words separated by spaces, folded and tokenised like replies) and a
# role. Roles are small tuples: (kind, value).

SEP, FILLER, POLITE, MARKER, ALL, BOTH, NONE, EXCEPT, NOT, BUT, RANGE, ORDINAL, LAST, NUMWORD, WEAK = (
    "sep",
    "filler",
    "polite",
    "marker",
    "all",
    "both",
    "none",
    "except",
    "not",
    "but",
    "range",
    "ordinal",
    "last",
    "numword",
    "weak",
)
CORRECTION, SUITS = "correction", "suits"
YES, NO, UNSURE, NEGATOR, RHETORICAL, WEAK_YES, QUESTION = (
    "yes",
    "no",
    "unsure",
    "negator",
    "rhetorical",
    "weak_yes",
    "question",
)

_Role = tuple[str, int]


def _phrases(text: str) -> list[str]:
    return [phrase.strip() for phrase in text.split("|") if phrase.strip()]


# Said around an answer without changing it: greetings, thanks, pronouns, "I choose", "for me", articles.
_FILLERS = _phrases(
    # en
    "hi|hello|hey|hiya|yo|dear|good morning|good evening|good afternoon|good night|there|team|"
    "i|im|id|ive|ill|me|my|mine|myself|we|us|our|you|your|it|its|is|are|am|be|was|would|will|do|does|did|"
    "a|an|the|of|for|to|in|on|at|about|with|by|from|that|thats|this|these|those|them|they|their|so|well|"
    "choose|chose|choosing|pick|picked|picking|select|selected|go|going|say|said|like|love|want|prefer|"
    "care|interested|interest|interests|important|importance|most|more|really|very|much|definitely|"
    "especially|mostly|mainly|mainly|just|only|also|too|as|answer|answers|reply|option|options|number|"
    "numbers|choice|choices|one|ones|issue|issues|topic|topics|matter|matters|vote|think|guess|"
    "hmm|hm|um|umm|uh|ok|okay|k|oh|ah|lol|haha|yes|yeah|yep|sure|please|pls|plz|thanks|thank|thx|ty|"
    "cheers|xx|x|xo|sir|madam|maam|mate|friend|friends|all good|guys|"
    # fr
    "bonjour|bonsoir|salut|coucou|cc|allo|madame|monsieur|mme|mr|cher|chere|"
    "je|j|moi|mon|ma|mes|me|m|nous|notre|nos|vous|votre|vos|tu|te|toi|ton|ta|tes|il|elle|on|ca|cela|ce|"
    "c|est|sont|suis|serait|ai|a|avons|choisis|choisi|choisirais|prends|prendrais|prend|veux|voudrais|"
    "aime|aimerais|prefere|preferes|interesse|interessee|interessent|m|important|importants|importante|"
    "le|la|les|l|un|une|des|du|de|d|au|aux|pour|par|sur|dans|en|qui|que|qu|quand|mais|donc|alors|bien|"
    "plutot|surtout|vraiment|tres|beaucoup|aussi|egalement|juste|seulement|que|reponse|reponses|choix|"
    "numero|numeros|num|option|options|sujet|sujets|theme|themes|proposition|propositions|"
    "oui|ouais|ok|dac|merci|beaucoup|svp|stp|plait|s il vous plait|s il te plait|bisous|cordialement|"
    "bonne journee|bonne soiree|euh|bah|ben|bref|voila|voici|bon|pense|crois|dirais|dis|"
    # es
    "hola|buenas|buenos dias|buenas tardes|buenas noches|senor|senora|saludos|"
    "yo|me|mi|mis|nosotros|nuestro|nuestra|usted|ustedes|tu|te|ti|lo|le|les|es|son|soy|seria|sea|"
    "elijo|escojo|escogeria|eligo|elegiria|prefiero|quiero|quisiera|gusta|gustan|gustaria|interesa|"
    "interesan|importa|importan|el|la|los|las|un|una|unos|unas|del|al|de|para|por|en|con|que|pues|"
    "muy|mucho|mas|sobre todo|principalmente|tambien|solo|solamente|respuesta|opcion|opciones|numero|"
    "numeros|tema|temas|eleccion|si|claro|vale|dale|gracias|muchas gracias|mil gracias|por favor|porfa|"
    "bueno|pues|eh|creo|diria|digo|"
    # de
    "hallo|moin|servus|guten tag|guten morgen|guten abend|liebe|lieber|grusse|"
    "ich|mich|mir|mein|meine|meiner|meinen|wir|uns|unser|du|dich|dir|sie|ihr|ihnen|es|ist|sind|bin|"
    "ware|wahle|wahlen|nehme|nehmen|mochte|will|wurde|gefallt|mag|finde|interessiert|interessieren|"
    "der|die|das|den|dem|des|ein|eine|einen|einem|fur|von|vom|zum|zur|mit|bei|auf|im|in|am|an|und|"
    "sehr|besonders|vor allem|hauptsachlich|auch|nur|eher|lieber|antwort|option|optionen|nummer|"
    "wahl|thema|themen|ja|ok|danke|vielen dank|danke schon|bitte|also|na|naja|denke|glaube|wichtig|"
    # ar
    "مرحبا|اهلا|السلام عليكم|سلام|صباح الخير|مساء الخير|يا|"
    "انا|اني|لي|عندي|بالنسبه|بالنسبه لي|نحن|انت|انتم|هو|هي|هذا|هذه|ذلك|اختار|اخترت|اختاري|اريد|ابغى|"
    "بدي|احب|افضل|يهمني|تهمني|يهمنا|مهتم|مهتمه|اهتم|في|على|من|الى|عن|مع|هو|رقم|الرقم|خيار|الخيار|"
    "اختيار|الاختيار|الاجابه|اجابه|جوابي|الجواب|موضوع|المواضيع|خصوصا|اكثر|جدا|فقط|كمان|ايضا|"
    "نعم|اه|تمام|شكرا|شكرا لك|شكرا جزيلا|مشكور|من فضلك|لو سمحت|الله|يعطيك العافيه|"
    # Verbs that carry no option of their own ("je peux faire du porte-à-porte" is not "Faire un don"):
    # do, make, can, in each language.
    "make|making|can|could|faire|fais|fait|ferais|peux|peut|pourrais|pourrait|hacer|hago|haria|puedo|"
    "podria|machen|mache|tun|kann|konnte|اعمل|بعمل|اسوي|اقدر|بقدر|ممكن|يمكنني|استطيع|"
)
# Said after a number without making it a quantity ("2 please"), or after "one" without it being a pronoun.
_POLITE = _phrases(
    "please|pls|plz|thanks|thank you|thx|ty|merci|svp|stp|s il vous plait|s il te plait|gracias|por favor|"
    "porfa|danke|bitte|شكرا|من فضلك|لو سمحت|ok|okay|only|seulement|solo|nur|فقط|for me|pour moi|para mi|"
    "fur mich|لي|بالنسبه لي"
)
# That the options said suit, after them: "3 and 4 work", "le 2 me va", "2 passt" (no quantity of things:
# "work" is no fourth option). Negated ("2 doesn't work", "2 geht nicht"), the reply is unclear.
_SUITS = _phrases(
    "work|works|work for me|works for me|suit|suits|suit me|suits me|fit|fits|fine|good|great|perfect|best|"
    "is fine|are fine|is good|are good|is best|are best|marche|marchent|me va|me vont|me convient|"
    "me conviennent|me va bien|me vont bien|me van|me van bien|me viene bien|me vienen bien|me conviene|"
    "me convienen|passt|passen|passt mir|passen mir|geht|gehen|klappt|klappen|يناسبني|يناسبوني|مناسب|"
    "مناسبين|ينفع|ينفعوا|تمشي"
)
# Words that introduce an option's number ("le 1", "option 1"): a following "un" or "one" is the number.
_MARKERS = _phrases(
    "le|la|el|number|no|nr|numero|num|option|opcion|nummer|choice|choix|رقم|الرقم|الخيار|خيار"
)
_SEPARATORS = _phrases(
    "and|et|y|e|und|u|و|or|ou|o|oder|او|also|aussi|tambien|auch|as well|plus|with|avec|con|mit|مع|then|"
    "puis|luego|dann|ثم|"
    # "3 pis 4" (Québec "puis"), "as well as", "ainsi que", "así como", "sowie", "sowohl 3 als auch 4"
    "et puis|pis|et pis|as well as|along with|ainsi que|asi como|sowie|als auch|وكمان"
)
_ALL = _phrases(
    "all|everything|every one|every single one|all of them|all of the above|all the above|all above|"
    "the lot|all options|all of it|any of them|anytime|any time|whenever|any day|every day|"
    "tout|tous|toutes|tout ca|tous ceux la|toutes les reponses|l ensemble|tout le monde|n importe quand|"
    "n importe lequel|n importe laquelle|quand vous voulez|quand tu veux|tout le temps|"
    "todo|todos|todas|todo eso|todas las opciones|todos ellos|cuando sea|cuando quieras|cualquiera|"
    "en cualquier momento|a cualquier hora|cualquier dia|"
    "alle|alles|alle davon|alle optionen|jederzeit|egal wann|"
    "كل|الكل|كلها|كلهم|جميع|الجميع|جميعها|كل ما سبق|جميع ما سبق|كل شي|كل شيء|كله|اي وقت|في اي وقت|"
    "اي واحد|اي شي|كل الاوقات|كل وقت"
)
# Phrases with "all" in them that are not "all": "that's all", "above all", "tout à fait".
_NOT_ALL = _phrases(
    "thats all|that is all|thats it|at all|above all|first of all|all right|alright|c est tout|"
    "cest tout|avant tout|tout a fait|pas du tout|du tout|surtout|eso es todo|es todo|sobre todo|"
    "ante todo|das ist alles|das wars|vor allem|uberhaupt|هذا كل شي|هذا كل شيء|بس"
)
_BOTH = _phrases(
    "both|both of them|the two|the two of them|"
    "les deux|tous les deux|toutes les deux|les 2|tous les 2|"
    "ambos|ambas|los dos|las dos|los 2|las 2|"
    "beide|beides|die beiden|beiden|alle beide|sowohl|a la fois|"
    "كلاهما|كليهما|الاثنين|الاثنان|الاتنين|الثنين|الاثنين معا"
)
_NONE = _phrases(
    "none|none of them|none of the above|neither|nothing|nada|no one|"
    "aucun|aucune|rien|aucun d eux|ni l un ni l autre|"
    "ninguno|ninguna|ni uno ni otro|"
    "keine|keiner|keins|nichts|weder noch|"
    "لا شي|لا شيء|لاشي|ولا واحد|ولا واحده|ولا وحده|ولا اي|ولا شي|ولا شيء|ولا حاجه|لا احد|والو|ماكاين والو"
)
# "2, nothing else": said after an answer, not "none".
_NOT_NONE = _phrases(
    "nothing else|none else|no other|rien d autre|rien de plus|aucun autre|aucune autre|nada mas|ningun otro|"
    "ninguna otra|sonst nichts|nichts anderes|nichts weiter|keine anderen|ولا شي غيره|لا غير"
)
_EXCEPT = _phrases(
    "except|except for|apart from|other than|besides|minus|without|"
    "sauf|a part|excepte|hormis|sans|"
    "menos|excepto|salvo|sin|"
    "ausser|bis auf|ohne|"
    "ما عدا|ماعدا|عدا|الا|باستثناء|غير"
)
_NOT = _phrases(
    "not|but not|dont|do not|doesnt|does not|isnt|arent|cant|cannot|wont|pas|mais pas|pero no|nicht|"
    "aber nicht|no|لا|مش|ليس|مو|ما"
)
_BUT = _phrases("but|mais|pero|sino|aber|sondern|لكن|ولكن")
# A member correcting themselves: what was said before it is taken back ("4 no wait, 3").
_CORRECTIONS = _phrases(
    "no wait|oh wait|wait|i mean|sorry i mean|actually no|no actually|scratch that|make that|correction|"
    "my bad|oops|non attends|attends|je veux dire|pardon je veux dire|non pardon|enfin non|non plutot|"
    "ou plutot|je me suis trompe|oups|no espera|espera|quise decir|quiero decir|perdon quise decir|digo|"
    "mejor dicho|o mejor|no mejor|me equivoque|corrijo|nein warte|warte|ich meine|ich mein|besser gesagt|"
    "oder besser|korrektur|hoppla|لا استنى|استنى|لا لحظه|قصدي|اقصد|لا اقصد|لا بل|بل|غلطت"
)
_RANGE = _phrases("to|through|thru|till|until|a|al|jusqu a|jusqu au|hasta|bis|الى|حتى|لين")
_ORDINALS = {
    1: "first|1st|premier|premiere|premiers|premieres|1er|1ere|primero|primera|primeros|primeras|primer|"
    "erste|erster|erstes|ersten|اول|الاول|الاولي|اولي|اولا|الاولين|اولين|الاوائل",
    2: "second|2nd|deuxieme|second|seconde|segundo|segunda|zweite|zweiter|zweites|zweiten|ثاني|الثاني|"
    "الثانيه|ثانيا",
    3: "third|3rd|troisieme|tercero|tercera|tercer|dritte|dritter|drittes|dritten|ثالث|الثالث|الثالثه|ثالثا",
    4: "fourth|4th|quatrieme|cuarto|cuarta|vierte|vierter|viertes|vierten|رابع|الرابع|الرابعه|رابعا",
    5: "fifth|5th|cinquieme|quinto|quinta|funfte|funfter|funftes|funften|خامس|الخامس|الخامسه|خامسا",
    6: "sixth|sixieme|sexto|sexta|sechste|sechster|sechstes|sechsten|سادس|السادس|السادسه",
    7: "seventh|septieme|septimo|septima|setimo|siebte|siebter|siebtes|siebten|سابع|السابع|السابعه",
    8: "eighth|huitieme|octavo|octava|achte|achter|achtes|achten|ثامن|الثامن|الثامنه",
    9: "ninth|neuvieme|noveno|novena|neunte|neunter|neuntes|neunten|تاسع|التاسع|التاسعه",
    10: "tenth|dixieme|decimo|decima|zehnte|zehnter|zehntes|zehnten|عاشر|العاشر|العاشره",
    11: "eleventh|onzieme|undecimo|elfte|elfter|حادي عشر|الحادي عشر",
    12: "twelfth|douzieme|duodecimo|zwolfte|zwolfter|ثاني عشر|الثاني عشر",
}
_LAST = _phrases(
    "last|the last one|dernier|derniere|derniers|dernieres|ultimo|ultima|ultimos|ultimas|letzte|letzter|"
    "letztes|letzten|اخير|الاخير|الاخيره|الاخيرين"
)
# Number words: value, and whether the word is also an article or pronoun ("un", "one", "ein").
_NUMBER_WORDS: dict[int, str] = {
    0: "zero|zéro|cero|null|صفر",
    1: "eins|uno|واحد|واحده",
    2: "two|deux|dos|zwei|zwo|اثنان|اثنين|اتنين|ثنين|اثنتان|اثنتين|اثنا|اثني",
    3: "three|trois|tres|drei|ثلاثه|ثلاث|تلاته|تلات",
    4: "four|quatre|cuatro|vier|اربعه|اربع",
    5: "five|cinq|cinco|funf|خمسه|خمس",
    6: "six|seis|sechs|سته|ست",
    7: "seven|sept|siete|sieben|سبعه|سبع",
    8: "eight|huit|ocho|acht|ثمانيه|ثمان|ثماني|تمانيه|تمان",
    9: "nine|neuf|nueve|neun|تسعه|تسع",
    10: "ten|dix|diez|zehn|عشره|عشر",
    11: "eleven|onze|once|elf|احد عشر|احدى عشره",
    12: "twelve|douze|doce|zwolf",
    13: "thirteen|treize|trece|dreizehn",
    14: "fourteen|quatorze|catorce|vierzehn",
    15: "fifteen|quinze|quince|funfzehn",
    16: "sixteen|seize|dieciseis|sechzehn",
    17: "seventeen|diecisiete|siebzehn",
    18: "eighteen|dieciocho|achtzehn",
    19: "nineteen|diecinueve|neunzehn",
    20: "twenty|vingt|vingts|veinte|zwanzig|عشرون|عشرين",
    21: "veintiuno|veintiuna|veintiun",
    22: "veintidos",
    23: "veintitres",
    24: "veinticuatro",
    25: "veinticinco",
    26: "veintiseis",
    27: "veintisiete",
    28: "veintiocho",
    29: "veintinueve",
    30: "thirty|trente|treinta|dreissig|ثلاثون|ثلاثين|تلاتين",
    40: "forty|fourty|quarante|cuarenta|vierzig|اربعون|اربعين",
    50: "fifty|cinquante|cincuenta|funfzig|خمسون|خمسين",
    60: "sixty|soixante|sesenta|sechzig|ستون|ستين",
    70: "seventy|septante|setenta|siebzig|سبعون|سبعين",
    80: "eighty|huitante|octante|ochenta|achtzig|ثمانون|ثمانين|تمانين",
    90: "ninety|nonante|noventa|neunzig|تسعون|تسعين",
    100: "hundred|one hundred|a hundred|cent|cien|ciento|hundert|einhundert|مئه|مائه|ميه",
}
_WEAK_NUMBER_WORDS = {1: "one|un|une|una|ein|eine|einen"}
# In a number question, a person counting themselves alone ("how many live in your household?").
_JUST_ME = _phrases(
    "just me|only me|me alone|me only|myself|just myself|i live alone|alone|by myself|on my own|"
    "juste moi|moi seul|moi seule|que moi|seulement moi|seul|seule|je vis seul|je vis seule|"
    "solo yo|yo solo|yo sola|solamente yo|vivo solo|vivo sola|"
    "nur ich|ich allein|allein|alleine|ich alleine|"
    "انا لوحدي|لوحدي|انا فقط|وحدي|بمفردي|انا وحدي"
)
# "7 out of 10", "7 sur 10", "٧ من ١٠", "7/10": a score on a scale, the scale's top said after it.
_SCALE = _phrases("out of|over|on|sur|de|von|aus|auf|من|/")

# Words a person reads as naming an option whose label says the same thing in other words or another
# language: "my sister" for "A friend or family", "le soir" for "Evening", "samedi" for "Saturdays". A concept
# joins the options whose labels contain one of its words; its other words then name those options too.
_CONCEPTS = {
    "family": "family|families|relative|relatives|mother|mom|mum|mommy|mama|father|dad|daddy|papa|parents|"
    "parent|sister|brother|siblings|wife|husband|son|daughter|cousin|uncle|aunt|grandma|grandmother|grandpa|"
    "grandfather|niece|nephew|sis|famille|familial|mere|maman|pere|soeur|frere|femme|mari|fils|fille|"
    "cousine|oncle|tante|mamie|papi|frangin|frangine|daron|daronne|familia|comadre|compadre|suegra|suegro|"
    "cunado|cunada|familiar|familiares|madre|padre|padres|hermana|hermano|esposa|esposo|"
    "marido|hijo|hija|primo|prima|tio|tia|abuela|abuelo|familie|verwandte|verwandten|mutter|vater|eltern|"
    "schwester|bruder|frau|mann|sohn|tochter|onkel|oma|opa|عائله|اهل|اهلي|اقارب|قريب|قريبي|امي|ماما|ابي|"
    "بابا|ابوي|اخت|اختي|اخي|اخوي|اخويا|خويا|خويي|خوي|ختي|يما|زوجتي|زوجي|ابني|بنتي|عمي|خالي|عمتي|خالتي|"
    "جدي|جدتي|عائلتي",
    "friend": "friend|friends|buddy|pal|bro|bestie|bff|homie|colleague|coworker|neighbor|neighbour|ami|amie|"
    "amis|amies|copain|"
    "copine|copains|pote|potes|collegue|voisin|voisine|amigo|amiga|amigos|amigas|companero|companera|colega|"
    "vecino|vecina|cuate|cuates|compa|carnal|pana|parcero|freund|freundin|freunde|kumpel|kollege|kollegin|"
    "nachbar|nachbarin|صديق|صديقي|صديقتي|"
    "اصدقاء|اصحابي|صاحبي|صحابي|صاحبتي|رفيقي|زميلي|جاري",
    "morning": "morning|mornings|matin|matins|matinee|manana|mananas|madrugada|morgen|morgens|"
    "vormittag|vormittags|fruh|صباح|صباحا|صبح|الصبح|بدري",
    "afternoon": "afternoon|afternoons|midi|aprem|tarde|tardes|nachmittag|nachmittags|mittag|mittags|ظهر|"
    "الظهر|ظهرا|عصر|العصر",
    "evening": "evening|evenings|night|nights|tonight|soir|soirs|soiree|soirees|nuit|noche|noches|"
    "abend|abends|nacht|nachts|spat|مساء|مساءا|ليل|الليل|ليلا|الليله|مسا",
    # Days, with their abbreviations in each language ("sat", "sam", "sáb", "Sa"; "Mi", "Fr" for Mittwoch and
    # Freitag). Those that are also common words ("mi", "do", "so", "mon") only in a reply of days alone
    # (_DAY_ABBREVIATIONS).
    "monday": "monday|mondays|lundi|lundis|lun|lunes|montag|montags",
    "tuesday": "tuesday|tuesdays|tue|tues|mardi|mardis|mar|martes|dienstag|dienstags|الثلاثاء",
    "wednesday": "wednesday|wednesdays|wed|weds|mercredi|mercredis|mer|miercoles|mie|mier|mittwoch|"
    "mittwochs|الاربعاء",
    "thursday": "thursday|thursdays|thu|thur|thurs|jeudi|jeudis|jeu|jueves|jue|donnerstag|donnerstags|الخميس",
    "saturday": "saturday|saturdays|sat|samedi|samedis|sam|sabado|sabados|sab|samstag|samstags|sonnabend|"
    "السبت",
    "sunday": "sunday|sundays|sun|dimanche|dimanches|dim|domingo|domingos|dom|sonntag|sonntags|الاحد",
    "friday": "friday|fridays|fri|vendredi|vendredis|ven|vend|viernes|vie|freitag|freitags|الجمعه",
    # Social networks by name and nickname ("الفيس", "insta"), joined to an option about social media.
    "social": "social|socials|reseaux|sociaux|redes|sociales|sozialen|soziale|facebook|fb|insta|instagram|"
    "ig|tiktok|twitter|whatsapp|snapchat|youtube|telegram|linkedin|تواصل|سوشيال|فيسبوك|فيس|انستا|انستغرام|"
    "انستجرام|انستقرام|تيك|تيكتوك|سناب|واتساب|واتس|تويتر|يوتيوب|تلغرام|تيليجرام",
    "media": "tv|television|telly|radio|tele|televisions|fernsehen|fernseher|rundfunk|televisión|televisor|"
    "تلفزيون|تلفزه|تلفاز|تليفزيون|تلفزيون|راديو|اذاعه|الراديو",
    # Everyday words for what campaigns commonly ask about: an option's label or synonym in one of them joins
    # the concept, and its other words then name that option ("boulot" for "Emploi", "الشغل" for "العمل").
    "work": "work|job|jobs|employment|employ|career|careers|wage|wages|salary|salaries|unemployment|"
    "boulot|boulots|taf|taff|travail|travaux|emploi|emplois|chomage|salaire|salaires|metier|"
    "trabajo|trabajos|empleo|empleos|chamba|chambas|laburo|curro|jale|desempleo|paro|sueldo|sueldos|"
    "arbeit|arbeiten|arbeitsplatz|arbeitsplatze|arbeitslosigkeit|beruf|lohn|lohne|gehalt|"
    "عمل|شغل|خدمه|وظائف|وظيفه|توظيف|بطاله|رواتب|راتب",
    "housing": "housing|house|houses|home|homes|homeless|homelessness|rent|rents|rental|landlord|landlords|"
    "apartment|apartments|flat|flats|mortgage|logement|logements|loyer|loyers|appartement|appartements|"
    "maison|maisons|hlm|immobilier|vivienda|viviendas|casa|casas|renta|rentas|alquiler|alquileres|arriendo|"
    "depa|departamento|departamentos|hipoteca|wohnen|wohnung|wohnungen|miete|mieten|mietpreise|wohnraum|"
    "سكن|اسكان|ايجار|ايجارات|شقه|شقق|منزل|مساكن|كرا|كراء",
    "health": "health|healthcare|hospital|hospitals|doctor|doctors|clinic|clinics|medical|medicine|nurses|"
    "sante|hopital|hopitaux|medecin|medecins|soins|salud|hospitales|medico|medicos|clinica|clinicas|"
    "sanidad|gesundheit|krankenhaus|krankenhauser|arzt|arzte|pflege|klinik|kliniken|"
    "صحه|مستشفي|مستشفيات|طبيب|اطباء|دكتور|علاج|مستوصف",
    "education": "education|school|schools|teacher|teachers|university|college|ecole|ecoles|enseignement|"
    "prof|profs|lycee|fac|universite|educacion|escuela|escuelas|colegio|colegios|maestro|maestros|"
    "universidad|bildung|schule|schulen|lehrer|kita|uni|universitat|"
    "تعليم|مدارس|مدرسه|جامعه|جامعات|معلمين|اساتده|دراسه|قرايه",
    "security": "safety|security|safe|crime|crimes|police|cops|violence|theft|securite|delinquance|"
    "insecurite|seguridad|crimen|delincuencia|policia|inseguridad|violencia|robos|sicherheit|"
    "kriminalitat|polizei|gewalt|امن|امان|شرطه|جريمه|جرائم|سرقه|سرقات",
    "transport": "transport|transportation|transit|bus|buses|train|trains|metro|subway|traffic|roads|"
    "commute|transports|tram|circulation|transporte|camion|camiones|trafico|carreteras|verkehr|"
    "nahverkehr|bahn|strassen|نقل|مواصلات|باص|طرقات|زحمه",
    "environment": "environment|environmental|climate|pollution|nature|planet|ecology|environnement|climat|"
    "ecologie|planete|medio ambiente|ambiente|clima|contaminacion|ecologia|umwelt|klima|klimaschutz|natur|"
    "verschmutzung|بيئه|مناخ|تلوث|طبيعه",
    "prices": "prices|price|cost|costs|inflation|groceries|bills|expensive|prix|cout|couts|factures|"
    "precios|precio|costo|costos|inflacion|caro|preise|preis|kosten|teuer|اسعار|غلاء|تكاليف|معيشه",
    # Where a member lives: outside the city, or at its centre.
    "outside": "outside|outskirts|suburbs|suburb|rural|countryside|dehors|hors|exterieur|banlieue|campagne|"
    "afuera|fuera|afueras|periferia|ausserhalb|umland|vorort|vororte|خارج|برا|بره|ضواحي|ريف",
    "center": "downtown|center|centre|centro|zentrum|innenstadt|stadtmitte|stadtzentrum|وسط",
    # What volunteers do: knock on doors, call, drive people, hand out flyers, host an event.
    "door": "door|doors|doorknocking|canvass|canvassing|knock|knocking|porte|portes|pap|puerta|puertas|"
    "tocar|tur|turen|haustur|بيوت|ابواب|باب|زياره|زيارات",
    "call": "call|calls|calling|phone|phones|phoning|phonebank|appel|appels|appeler|telephone|telephoner|"
    "telephoniques|llamar|llamadas|llamada|telefono|telefonear|anrufe|anrufen|telefonieren|telefon|"
    "اتصال|اتصالات|مكالمه|مكالمات|تلفون|هاتف|هاتفيه",
    "drive": "drive|driving|driver|drivers|ride|rides|lift|lifts|carpool|conduire|chauffeur|covoiturage|"
    "conducir|manejar|chofer|fahren|fahrer|fahrdienst|توصيل|سواقه",
    "flyer": "flyer|flyers|leaflet|leaflets|leafleting|flyering|pamphlets|tract|tracts|tractage|prospectus|"
    "volante|volantes|folleto|folletos|flugblatt|flugblatter|zettel|منشورات|مطويات",
    "event": "event|events|meeting|meetings|gathering|evenement|evenements|reunion|reunions|rencontre|rencontres|"
    "evento|eventos|junta|veranstaltung|veranstaltungen|treffen|فعاليه|فعاليات|اجتماع|لقاء|ندوه",
}
# Day abbreviations that are also everyday words ("mi" is "my", "do", "so", "mon", "ma", "tu", "di"): a day
# only when the reply says nothing but days ("Mi, Fr"), in a question whose options are days.
_DAY_ABBREVIATIONS = {
    "monday": "mon|mo|lu",
    "tuesday": "tu|ma|di",
    "wednesday": "mi",
    "thursday": "do|ju",
    "friday": "fr|vi",
    "saturday": "sa",
    "sunday": "so|su",
}
# The weekend: Saturday and Sunday, Friday and Saturday where the member writes Arabic.
_WEEKEND = _phrases(
    "weekend|weekends|week end|week ends|fin de semaine|fins de semaine|fin de semana|fines de semana|finde|"
    "findes|wochenende|wochenenden|نهايه الاسبوع|نهايات الاسبوع|عطله نهايه الاسبوع|ويكند|الويكند|ويك اند"
)
WEEKEND, SCALE = "weekend", "scale"
# Words that are a number in one language and something else in another: (folded word, member's language).
_FALSE_FRIENDS = frozenset({("tres", "fr"), ("once", "en"), ("elf", "en"), ("dos", "fr"), ("sept", "en")})
# ... and the accented spelling that tells the other word apart when the language is not known ("très").
_ACCENTED_FRIENDS = {"tres": "très"}


def _false_friend(token: str, language: str, text: str) -> bool:
    if (token, language) in _FALSE_FRIENDS:
        return True
    accented = _ACCENTED_FRIENDS.get(token)
    return accented is not None and accented in text.lower()


_GERMAN_COMPOUND = re.compile(
    r"(ein|zwei|drei|vier|funf|sechs|sieben|acht|neun)und"
    r"(zwanzig|dreissig|vierzig|funfzig|sechzig|siebzig|achtzig|neunzig)"
)
_GERMAN_UNITS = {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "sechs": 6, "sieben": 7, "acht": 8}
_GERMAN_UNITS["neun"] = 9
_GERMAN_TENS = {"zwanzig": 20, "dreissig": 30, "vierzig": 40, "funfzig": 50, "sechzig": 60, "siebzig": 70}
_GERMAN_TENS.update({"achtzig": 80, "neunzig": 90})

# Yes and no. NEGATABLE yes words turn into no (or unsure, for "sure") after a negator: "pas d'accord",
# "no estoy de acuerdo", "not sure".
_YES = _phrases(
    "yes|y|ya|yah|yea|yeah|yeh|yep|yup|yas|yess|yes please|sure thing|bet|deffo|defo|fosho|of course|ofc|"
    "definitely|"
    "absolutely|certainly|indeed|correct|right|true|affirmative|aye|totally|for sure|100|100 percent|"
    "no problem|no doubt|no worries|no prob|count me in|im in|i m in|i am in|why not|go for it|"
    "oui|ouais|ouai|ouaip|ouep|ouip|wi|si|bien sur|bien entendu|evidemment|certainement|absolument|"
    "tout a fait|carrement|volontiers|exact|exactement|avec plaisir|sans probleme|pas de probleme|"
    "pas de souci|pas de soucis|sans souci|affirmatif|ca marche|c est sur|bien sur que oui|oui oui|"
    "evidement|pourquoi pas|je suis partant|grave|ouais grave|oui grave|trop bien|je suis partante|partant|"
    "partante|compte sur moi|"
    "si|sip|claro|claro que si|por supuesto|desde luego|obvio|obviamente|cierto|exacto|efectivamente|"
    "correcto|con gusto|sin duda|sin problema|no hay problema|por que no|cuenta conmigo|me apunto|"
    "ja|jo|jep|jap|japp|jup|jupp|klar|na klar|natürlich|naturlich|genau|gerne|gern|doch|freilich|"
    "allerdings|selbstverstandlich|auf jeden fall|logo|jawohl|kein problem|warum nicht|bin dabei|"
    "ich bin dabei|sicherlich|"
    # Québec, Mexico, Switzerland
    "ouin|mets en|simon|simon que si|sisas|orale|andale|cuenten conmigo|cuente conmigo|gaern|garn|"
    "نعم|ايوه|ايوا|ايوة|ايو|اه|اي|ايه|اجل|بلي|طبعا|اكيد|اكيدا|بالتاكيد|تمام|صح|صحيح|ماشي|يب|يس|"
    "اوكي|اوك|بكل تاكيد|اكيد طبعا|طبعا نعم|نعم طبعا|ليش لا|لم لا|لما لا|ولم لا|معكم|انا معكم|"
    # Maghrebi and Gulf Arabic ("واخا", "باهي", "ابشر"), and Arabic written in Latin letters (Arabizi).
    "واخا|وخا|واه|باهي|ابشر|حاضر|aywa|aiwa|aywah|aiwah|na3am|naam|akid|akeed|tamam|tmam|mashi|wakha|waxa|"
    "👍|👌|✅|✔|☑|🆗|🙆|💯|🙋"
)
_YES_NEGATABLE = _phrases(
    "ok|okay|k|kk|agree|agreed|interested|in favor|in favour|keen|d accord|dac|dacc|daccord|oki|okey|"
    "ok pour moi|ca me va|interesse|interessee|pour|de acuerdo|vale|dale|interesado|interesada|"
    "a favor|einverstanden|interessiert|dafur|موافق|موافقه|مهتم|مهتمه|ok ok"
)
_SURE = _phrases("sure|sur|sure sure|certain|seguro|segura|sicher|متاكد|متاكده")
_WEAK_YES = _phrases(
    "i do|i will|i am|i have|i would|i can|i did|we do|we will|je veux bien|je le ferai|je vais|"
    "lo hare|quiero|ich will|ich werde|سافعل"
)
_NO = _phrases(
    "n|nope|nah|naw|nay|nop|negative|never|no way|no thanks|no thank you|not really|not at all|"
    "absolutely not|definitely not|of course not|certainly not|surely not|not yet|not now|no no|"
    "non|nan|nope|jamais|non merci|pas vraiment|pas du tout|pas question|absolument pas|certainement pas|"
    "surement pas|bien sur que non|pas encore|jamais de la vie|non non|"
    "no|nel|nunca|jamas|para nada|en absoluto|de ninguna manera|claro que no|no gracias|tampoco|"
    "por supuesto que no|todavia no|aun no|ni loco|ni loca|"
    "nein|nee|ne|no|noe|niemals|nie|keinesfalls|auf keinen fall|gar nicht|nicht wirklich|nein danke|"
    "noch nicht|eher nicht|"
    # Québec, Switzerland, Arabizi
    "pantoute|pas pantoute|nenon|nei|nei danke|la2|laa|la2a|la shukran|abadan|"
    "لا|لاء|كلا|ابدا|مستحيل|لا شكرا|لا والله|مو|لسه|ليس بعد|"
    "👎|❌|✖|❎|🚫|⛔|🙅"
)
_NEGATORS = _phrases(
    "not|dont|doesnt|didnt|wont|cant|cannot|isnt|arent|wasnt|wouldnt|shouldnt|havent|hasnt|aint|do not|"
    "does not|did not|will not|am not|im not|i m not|ne|n|pas|no|nicht|kein|keine|مش|ما|ليس|لست|غير|مو"
)
_UNSURE = _phrases(
    "maybe|perhaps|possibly|probably|not sure|im not sure|unsure|dont know|do not know|dunno|idk|no idea|"
    "depends|it depends|we ll see|well see|sometimes|kind of|kinda|sort of|sorta|more or less|not sure yet|"
    "dont think so maybe|50 50|who knows|not decided|undecided|havent decided|"
    "peut etre|peutetre|pe|je sais pas|je ne sais pas|sais pas|chais pas|jsp|aucune idee|ca depend|"
    "pas sur|pas sure|pas certain|pas certaine|on verra|parfois|bof|probablement|plus ou moins|"
    "je ne suis pas sur|je ne suis pas sure|pas encore decide|peut etre pas|"
    "quizas|quiza|tal vez|a lo mejor|no se|no lo se|ni idea|depende|puede ser|puede que|capaz|a veces|"
    "mas o menos|no estoy seguro|no estoy segura|probablemente|no sabria|"
    "vielleicht|weiss nicht|weiss ich nicht|keine ahnung|kommt drauf an|kommt darauf an|mal sehen|"
    "manchmal|eventuell|evtl|mehr oder weniger|nicht sicher|wahrscheinlich|vllt|"
    "ربما|يمكن|ممكن|مش متاكد|مش متاكده|مش عارف|مش عارفه|ما بعرف|مابعرف|لا اعرف|لا ادري|ما اعرف|"
    "ماعرف|الله اعلم|احيانا|حسب|يعتمد|ان شاء الله|انشاء الله|انشالله|مدري|ما ادري"
)
# "Why not?" is an answer even with its question mark.
# A time to come: after a clear yes or no, a hedge about later keeps it ("Nope, maybe next month": a no now).
_LATER = _phrases(
    "later|next time|next week|next month|next year|another time|some other time|in the future|someday|"
    "plus tard|une autre fois|la prochaine fois|le mois prochain|la semaine prochaine|l an prochain|"
    "l annee prochaine|un jour|mas adelante|mas tarde|otro dia|otra vez|la proxima|la proxima vez|"
    "el proximo mes|el mes que viene|la semana que viene|el ano que viene|spater|ein andermal|"
    "ein anderes mal|nachstes mal|nachsten monat|nachste woche|nachstes jahr|irgendwann|"
    "بعدين|لاحقا|بعد|مره تانيه|مره اخري|الشهر الجاي|الشهر القادم|الاسبوع الجاي|الاسبوع القادم|السنه الجايه"
)
LATER, APPROX = "later", "approx"
# "About 12", "environ 12", "como 12 al mes", "حوالي ١٢": a number given roughly is that number.
_APPROX = _phrases(
    "about|around|roughly|approximately|approx|like|nearly|almost|some|environ|a peu pres|presque|dans les|"
    "vers|quelque|como|unos|unas|alrededor de|aproximadamente|casi|cerca de|etwa|ungefahr|rund|fast|circa|"
    "ca|so|حوالي|حوالى|تقريبا|نحو|قرابه|يجي"
)
_RHETORICAL = _phrases("why not|pourquoi pas|por que no|warum nicht|wieso nicht|ليش لا|لم لا|لما لا|ولم لا")
# Replies that open with these are questions back, question mark or not ("what is 3", "c'est quoi le 2").
_QUESTION_WORDS = _phrases(
    "what|whats|which|why|how|who|whos|where|when|huh|wdym|what do you mean|can i|could i|do i|"
    "quoi|quel|quelle|quels|quelles|pourquoi|comment|qui|c est quoi|cest quoi|qu est ce|quest ce|"
    "est ce que|ca veut dire|"
    "cual|cuales|como|donde|quien|cuando|por que|que es|que significa|"
    "welche|welcher|welches|warum|wieso|weshalb|wie|wer|wo|wann|was ist|was heisst|"
    "ماذا|ما هو|ما هي|شو|ايش|وش|كيف|ليش|لماذا|ليه|هل|مين|من هو|وين|اين|متي|يعني ايه|يعني شو"
)

_QUESTION_MARKS = frozenset({"?", "¿"})


class _Lexicon:
    """Phrases indexed by their first word, longest first, so the longest phrase at a place wins."""

    def __init__(self) -> None:
        self.index: dict[str, list[tuple[tuple[str, ...], _Role]]] = {}

    def add(self, phrases: Iterable[str], role: _Role) -> None:
        for phrase in phrases:
            words = tuple(_tokens(_fold(phrase)))
            if not words:
                continue
            entries = self.index.setdefault(words[0], [])
            if any(existing == words for existing, _ in entries):
                continue  # the first role given wins: callers add the most specific first
            entries.append((words, role))
            entries.sort(key=lambda entry: -len(entry[0]))

    def match(self, variants: Sequence[tuple[str, ...]], i: int) -> tuple[int, _Role] | None:
        """The longest phrase starting at token i: (its length in tokens, its role)."""
        for form in variants[i]:
            for words, role in self.index.get(form, ()):
                if len(words) <= len(variants) - i and all(
                    words[k] in variants[i + k] for k in range(1, len(words))
                ):
                    return len(words), role
        return None


def _choice_lexicon() -> _Lexicon:
    lexicon = _Lexicon()
    lexicon.add(_NOT_ALL, (FILLER, 0))
    lexicon.add(_NOT_NONE, (FILLER, 0))
    lexicon.add(_CORRECTIONS, (CORRECTION, 0))
    lexicon.add(_NONE, (NONE, 0))
    lexicon.add(_BOTH, (BOTH, 0))
    lexicon.add(_ALL, (ALL, 0))
    lexicon.add(_EXCEPT, (EXCEPT, 0))
    lexicon.add(_NOT, (NOT, 0))
    lexicon.add(_BUT, (BUT, 0))
    lexicon.add(_LAST, (LAST, 0))
    for value, words in _ORDINALS.items():
        lexicon.add(_phrases(words), (ORDINAL, value))
    for value, words in _NUMBER_WORDS.items():
        if value <= 12:
            lexicon.add(_phrases(words), (NUMWORD, value))
    for value, words in _WEAK_NUMBER_WORDS.items():
        lexicon.add(_phrases(words), (WEAK, value))
    lexicon.add(_WEEKEND, (WEEKEND, 0))
    lexicon.add(_QUESTION_WORDS, (QUESTION, 0))
    lexicon.add(_RANGE, (RANGE, 0))
    lexicon.add(_MARKERS, (MARKER, 0))
    lexicon.add(_POLITE, (POLITE, 0))
    lexicon.add(_SUITS, (SUITS, 0))
    lexicon.add(_SEPARATORS, (SEP, 0))
    lexicon.add(_FILLERS, (FILLER, 0))
    return lexicon


def _yes_no_lexicon() -> _Lexicon:
    lexicon = _Lexicon()
    lexicon.add(_RHETORICAL, (RHETORICAL, 0))
    lexicon.add(_LATER, (LATER, 0))
    lexicon.add(_UNSURE, (UNSURE, 0))
    lexicon.add(_NO, (NO, 0))
    lexicon.add(_WEAK_YES, (WEAK_YES, 0))
    lexicon.add(_YES_NEGATABLE, (YES, 1))
    lexicon.add(_SURE, (YES, 2))
    lexicon.add(_YES, (YES, 0))
    lexicon.add(_NEGATORS, (NEGATOR, 0))
    lexicon.add(_QUESTION_WORDS, (QUESTION, 0))
    lexicon.add(_POLITE, (POLITE, 0))
    lexicon.add(_FILLERS, (FILLER, 0))
    return lexicon


def _number_lexicon() -> _Lexicon:
    lexicon = _Lexicon()
    lexicon.add(_JUST_ME, (NUMWORD, 1))
    # German counts people so: "wir sind zu viert" (four of us).
    for value, word in enumerate(("zweit", "dritt", "viert", "funft", "sechst", "siebt", "acht", "neunt"), 2):
        lexicon.add([f"zu {word}"], (NUMWORD, value))
    lexicon.add(["zu zehnt"], (NUMWORD, 10))
    lexicon.add(_CORRECTIONS, (CORRECTION, 0))
    lexicon.add(_SCALE, (SCALE, 0))
    for value, words in _NUMBER_WORDS.items():
        lexicon.add(_phrases(words), (NUMWORD, value))
    for value, words in _WEAK_NUMBER_WORDS.items():
        lexicon.add(_phrases(words), (WEAK, value))
    # "None" is zero of something ("how many children?").
    lexicon.add(
        _phrases(
            "none|nothing|aucun|aucune|ninguno|ninguna|keine|keinen|keins|لا يوجد|ولا واحد|ولا واحده|ولا وحده|"
            "ولا حاجه|والو"
        ),
        (NUMWORD, 0),
    )
    lexicon.add(_APPROX, (APPROX, 0))
    lexicon.add(_QUESTION_WORDS, (QUESTION, 0))
    return lexicon


_CHOICE_LEXICON = _choice_lexicon()
_YES_NO_LEXICON = _yes_no_lexicon()
_NUMBER_LEXICON = _number_lexicon()
# Words that never name an option on their own, even when a label contains them ("Jobs for you").
_STOPWORDS = frozenset(
    word
    for entries in _CHOICE_LEXICON.index.values()
    for words, _ in entries
    if len(words) == 1
    for word in words
)


# ---------------------------------------------------------------------------------------------------------
# A question's options, indexed once.


def _tolerance(length: int) -> int:
    """Typos forgiven in a word of this many letters: none in short words, where one letter is the word."""
    if length <= 3:
        return 0
    if length <= 7:
        return 1
    return 2


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {form[:k] + form[k + 1 :] for form in frontier for k in range(len(form))}
        out |= frontier
    return out


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two neighbours is one typo), or limit + 1 past limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _concept_words(phrases: str) -> frozenset[str]:
    return frozenset(_canonical(word) for phrase in _phrases(phrases) for word in _tokens(_fold(phrase)))


_CONCEPT_WORDS = {name: _concept_words(words) for name, words in _CONCEPTS.items()}
_DAY_ABBREVIATION_WORDS = {name: _concept_words(words) for name, words in _DAY_ABBREVIATIONS.items()}
# Said between days in a reply of days alone ("Mi, Fr", "Sa und So", "mar y jue").
_DAY_JOINERS = frozenset(_tokens(_fold("and|et|y|e|und|u|or|ou|o|oder|&|,|/|;|.|-|و|او")))


# German written without umlauts: ae, oe, ue for ä, ö, ü (which fold to a, o, u); ß folds to ss already.
_UMLAUTS = re.compile("([aou])e")


def _transliterated(forms: tuple[str, ...]) -> tuple[str, ...]:
    """A word with ae, oe, ue read as ä, ö, ü: "sued" is also "sud", as "Süd" folds ("Sued" for "Süd")."""
    out = []
    for form in forms:
        if "e" in form and not _is_arabic(form):
            plain = _UMLAUTS.sub(r"\1", form)
            if plain != form and plain not in forms and plain not in out:
                out.append(plain)
    return tuple(out)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class _Options:
    def __init__(self, choices: tuple[ChoiceSpec, ...]) -> None:
        self.positions = frozenset(choice.position for choice in choices)
        self.ordered = tuple(sorted(self.positions))
        self.one_digit = all(0 < position < 10 for position in self.positions)
        phrases: dict[str, set[int]] = {}  # whole labels and synonyms
        words: dict[str, set[int]] = {}  # their words that can name an option on their own
        label_words: dict[int, set[str]] = {}  # every word of each option's labels, for concepts
        for choice in choices:
            for text in (*choice.labels, *choice.synonyms):
                label = [_canonical(w) for w in _tokens(_fold(text)) if w[0].isalpha()]
                if not label:
                    continue
                phrases.setdefault(" ".join(label), set()).add(choice.position)
                label_words.setdefault(choice.position, set()).update(label)
                content = [w for w in label if w not in _STOPWORDS and len(w) >= 2]
                # A label of common words only ("Morning", "Other") is still named by them.
                for word in content or [w for w in label if len(w) >= 3]:
                    words.setdefault(word, set()).add(choice.position)
        self.phrases = _Lexicon()
        for phrase, positions in phrases.items():
            # A label two options share names neither (read as a word said in passing).
            self.phrases.add([phrase], ("choice", next(iter(positions)) if len(positions) == 1 else 0))
        # A word two options share ("weekday" in "Weekday mornings" and "Weekday evenings") names both,
        # when nothing more precise is said.
        self.words = {word: frozenset(positions) for word, positions in words.items()}
        self.concepts: dict[str, frozenset[int]] = {}
        self.concept_words: dict[str, frozenset[int]] = {}
        for name, members in _CONCEPT_WORDS.items():
            joined = frozenset(p for p, label in label_words.items() if label & members)
            if joined:
                self.concepts[name] = joined
                for word in members:
                    if word not in self.words and word not in _STOPWORDS:
                        self.concept_words[word] = joined
        # Days by abbreviations that are everyday words too ("mi", "do", "so"): only in a reply of days alone.
        self.day_words: dict[str, frozenset[int]] = {}
        for name, abbreviations in _DAY_ABBREVIATION_WORDS.items():
            for word in abbreviations | _CONCEPT_WORDS[name]:
                if name in self.concepts and word not in self.day_words:
                    self.day_words[word] = self.concepts[name]
        self.deletions: dict[str, list[str]] = {}
        self.stems: dict[str, list[str]] = {}
        for word in self.words:
            for form in _deletions(word, _tolerance(len(word))):
                self.deletions.setdefault(form, []).append(word)
            if len(word) >= 5:
                self.stems.setdefault(word[:5], []).append(word)
        self.prefixes = sorted((w for w in self.words if len(w) >= 4), key=len, reverse=True)

    def weekend(self, language: str) -> frozenset[int]:
        days = ("friday", "saturday") if language == "ar" else ("saturday", "sunday")
        return frozenset().union(*(self.concepts.get(day, frozenset()) for day in days))

    def word(self, forms: tuple[str, ...]) -> frozenset[int] | None:
        """The options a reply word names: exactly, by a concept, as a plural, compound, truncation or
        another form of the same stem, or with a typo."""
        forms = forms + _arabic_stems(forms)  # after the word as written: "تبرع" before "برع"
        forms = forms + _transliterated(forms)  # "Sued" for "Süd", "Gruen" for "Grün"
        for form in forms:
            if form in self.words:
                return self.words[form]
        for form in forms:
            if form in self.concept_words:
                return self.concept_words[form]
        forms = tuple(form for form in forms if len(form) >= 3)
        for word in forms:
            for label_word in self.prefixes:
                # "healthcare", "Gesundheitssystem" for a label's "health", "gesundheit"; "environ" for
                # "environment" (at least five letters and half the word).
                if word.startswith(label_word) or (
                    len(word) >= 5 and 2 * len(word) >= len(label_word) and label_word.startswith(word)
                ):
                    return self.words[label_word]
            # Another form of the same stem: "appeler" for "appels", "llamar" for "llamadas", "telefonieren"
            # for "Telefonanrufe": a common beginning of 7 letters, or of 5 and three quarters of a word.
            stemmed = [
                label_word
                for label_word in self.stems.get(word[:5], ())
                if (shared := _common_prefix(word, label_word)) >= 7
                or shared >= 0.75 * min(len(word), len(label_word))
            ]
            if stemmed:
                return frozenset().union(*(self.words[w] for w in stemmed))
        best: dict[str, int] = {}
        for word in forms:
            tried: set[str] = set()
            for form in _deletions(word, 2):
                for label_word in self.deletions.get(form, ()):
                    if label_word in tried:
                        continue
                    tried.add(label_word)
                    limit = _tolerance(len(label_word))
                    distance = _distance(word, label_word, limit) if limit else 99
                    best[label_word] = min(distance, best.get(label_word, 99))
        found = [(d, w) for w, d in best.items() if d <= _tolerance(len(w))]
        if not found:
            return None
        closest = min(d for d, _ in found)
        return frozenset().union(*(self.words[w] for d, w in found if d == closest))


@functools.lru_cache(maxsize=512)
def _options(choices: tuple[ChoiceSpec, ...]) -> _Options:
    return _Options(choices)


# ---------------------------------------------------------------------------------------------------------
# Parsing.


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
    text = (text or "").strip()
    if not text:
        return None
    if kind == "text":
        return Parsed(value=text)
    if kind == "yes_no":
        return _yes_no(text, language)
    if kind == "number":
        return _number(text, language, number_min, number_max)
    if kind in ("single", "multiple") and choices:
        return _choices(text, _options(tuple(choices)), language, single=kind == "single")
    return None


def _variants_of(tokens: list[str]) -> list[tuple[str, ...]]:
    return [_variants(token) if token[0].isalpha() else (token,) for token in tokens]


def _is_question(tokens: list[str], roles: list[str], *, marks: bool = True) -> bool:
    """A question mark, or a question word before anything that answers."""
    if marks and any(token in _QUESTION_MARKS for token in tokens):
        return True
    for role in roles:
        if role == QUESTION:
            return True
        if role not in (FILLER, POLITE, CORRECTION, APPROX, "punct"):
            return False
    return False


# "No. 2", "n° 2", "nº2", "Nr. 2": the abbreviation of "number", not a "no" (º folds to o: matched before).
_RAW_NUMBER_SIGN = re.compile(r"\b[nN]\s?[º°]\s*(?=\d)")
_NUMBER_SIGN = re.compile(r"\b(?:no\.|nr\.?|n\.|no(?=\d))\s*(?=\d)")


_Item = tuple[str, "int | frozenset[int] | str"]


# "The 4th one", "le 2e", "la 3ème", "el 2º", "die 3te": an ordinal number and its pronoun are one option.
_NTH_ONE = re.compile(
    r"\b(\d+)(?:st|nd|rd|th|er|ere|e|eme|em|o|a|te|ter|tes|ten)\s+(?:one|un|une|uno|una|ein|eine|einen|eines)\b"
)


def _choices(text: str, options: _Options, language: str, *, single: bool) -> Parsed | None:
    folded = _NUMBER_SIGN.sub(" ", _fold(_RAW_NUMBER_SIGN.sub(" ", text)))
    tokens = _tokens(_NTH_ONE.sub(r"\1", folded) if " " in folded else folded)
    items = _choice_items(tokens, options, language, text)
    if _is_question(tokens, [kind for kind, _ in items]):
        return None
    items = _first_ones(items, options)
    if items is None:
        return None

    positive: set[int] = set()
    negative: set[int] = set()
    shared: set[int] = set()
    every = both = none = False
    negating = False
    previous_kind = ""
    k = 0
    while k < len(items):
        kind, value = items[k]
        following = items[k + 1][0] if k + 1 < len(items) else ""
        picks: set[int] | None = None
        if kind == "num":
            number = int(str(value))
            # A range: "1 to 3", "del 1 al 3", "1-3" (two numbers only: "1-3-4" is a list).
            if k + 2 < len(items) and items[k + 2][0] == "num" and _is_range(items, k):
                end = int(str(items[k + 2][1]))
                if not 0 < number < end:
                    return None
                picks = set(range(number, end + 1))
                k += 2
            elif number not in options.positions and options.one_digit and len(str(value)) > 1:
                picks = {int(d) for d in str(value)}  # "13": 1 and 3
            else:
                picks = {number}
            after = items[k + 1][0] if k + 1 < len(items) else ""
            if after == "unknown":
                return None  # "3 kids": a quantity, not an option
        elif kind == "pick":
            picks = set(value)  # type: ignore[arg-type]
        elif kind == "shared":
            shared.update(value)  # type: ignore[arg-type]
        elif kind in (ORDINAL, NUMWORD):
            picks = {int(value)}  # type: ignore[arg-type]
            if kind == NUMWORD and following == "unknown":
                return None
        elif kind == WEAK:
            # "un", "one", "ein" are the number only where a number stands: alone, in a list, after "le"
            # or "option"; "the first one", "un peu", "ein bisschen" are not.
            before_ok = previous_kind in ("", SEP, "punct", "num", NUMWORD, MARKER)
            after_ok = following in ("", SEP, "punct", "num", NUMWORD, POLITE, SUITS, "pick")
            if before_ok and after_ok:
                picks = {int(value)}  # type: ignore[arg-type]
        elif kind == LAST:
            picks = {options.ordered[-1]}
        elif kind == WEEKEND:
            picks = set(options.weekend(language)) or None
        elif kind == ALL:
            every = True
            if following == BUT:
                items[k + 1] = (EXCEPT, 0)
        elif kind == BOTH:
            both = True
        elif kind == NONE:
            none = True
        elif kind == SUITS:
            if NOT in (previous_kind, following) or (k >= 2 and items[k - 2][0] == NOT):
                return None  # "2 doesn't work", "le 2 marche pas", "2 no me va"
        elif kind == CORRECTION:
            # "4 no wait, 3": what was said before is taken back.
            positive.clear()
            negative.clear()
            shared.clear()
            every = both = none = negating = False
        elif kind == EXCEPT:
            negating = True
        elif kind == NOT:
            # "not 2", "pas le 2", "no el 2": a negation when an option follows it directly (an article
            # between); "no, 2" is a no said before the answer.
            after = next((other for other, _ in items[k + 1 :] if other not in (MARKER, FILLER)), "")
            if previous_kind in ("num", "pick") and following in ("", "punct"):
                return None  # "2 works, 3 doesn't", "2 ja, 3 nicht": the last option said is taken back
            negating = negating or (following != "punct" and after in ("num", "pick", ORDINAL, NUMWORD, WEAK))
        elif kind == BUT:
            negating = False
        if picks is not None:
            if not picks <= options.positions:
                return None  # an option that does not exist
            (negative if negating else positive).update(picks)
        previous_kind = kind
        k += 1

    if positive & negative:
        return None  # "2 but not 2"
    if none:
        # "None of these": an answer where several may be chosen (none of them is one of the answers a
        # multiple choice allows); unclear where one must be, or when an option is named too ("none, 2").
        if single or positive or shared or every or both:
            return None
        return Parsed(choices=(), value="none")
    if every:
        chosen = set(options.positions) - negative
    elif both:
        if positive:
            chosen = positive if len(positive) == 2 else set()
        else:
            chosen = set(options.positions) if len(options.positions) == 2 else set()
    else:
        chosen = positive or (shared - negative)
    if not chosen or (single and len(chosen) != 1):
        return None
    ordered = tuple(sorted(chosen))
    return Parsed(choices=ordered, value=",".join(map(str, ordered)))


def _choice_items(tokens: list[str], options: _Options, language: str, text: str) -> list[_Item]:
    """What each stretch of the reply is: a number, an option named, a word of the vocabularies (with its
    role), an unknown word, punctuation."""
    variants = _variants_of(tokens)
    items: list[_Item] = []
    # A reply of days alone ("Mi, Fr", "Sa und So") names days by abbreviations that elsewhere are other
    # words ("mi" is "my" in Spanish, "do" and "so" English).
    days = options.day_words
    days_alone = bool(days) and all(token in days or token in _DAY_JOINERS for token in tokens)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isdigit():
            items.append(("num", token))
            i += 1
            continue
        if days_alone and token in days:
            items.append(("pick", days[token]))
            i += 1
            continue
        label = options.phrases.match(variants, i)
        builtin = _CHOICE_LEXICON.match(variants, i)
        if builtin and _false_friend(token, language, text):
            builtin = (1, (FILLER, 0))
        if label and (not builtin or label[0] >= builtin[0]):
            items.append(("pick", frozenset({label[1][1]})) if label[1][1] else (FILLER, 0))
            i += label[0]
            continue
        if builtin:
            items.append(builtin[1])
            i += builtin[0]
            continue
        if token[0].isalpha():
            positions = options.word(variants[i])
            if positions is None:
                items.append(("unknown", token))
            else:
                items.append(("pick" if len(positions) == 1 else "shared", positions))
        else:
            items.append(("punct", token))
        i += 1
    return items


def _first_ones(items: list[_Item], options: _Options) -> list[_Item] | None:
    """ "The first two", "les deux premiers", "los dos primeros", "die letzten beiden": a count beside
    "first" or "last" is that many options from the start or the end. None when there are not that many."""
    out: list[_Item] = []
    k = 0
    while k < len(items):
        if k + 1 < len(items):
            pair = (items[k], items[k + 1])
            edge = next((item for item in pair if item == (ORDINAL, 1) or item[0] == LAST), None)
            count = next((item for item in pair if item[0] in (NUMWORD, BOTH) and item is not edge), None)
            if edge is not None and count is not None:
                n = 2 if count[0] == BOTH else int(str(count[1]))
                if not 0 < n <= len(options.ordered):
                    return None
                picked = options.ordered[:n] if edge[0] == ORDINAL else options.ordered[-n:]
                out.append(("pick", frozenset(picked)))
                k += 2
                continue
        out.append(items[k])
        k += 1
    return out


def _is_range(items: list[tuple[str, int | frozenset[int] | str]], k: int) -> bool:
    kind, value = items[k + 1]
    if kind == RANGE:
        return True
    if kind == "punct" and value in ("-", "–", "—"):
        # Only "1-3" alone: a dash before or after makes it a list ("1-3-4").
        before = k >= 1 and items[k - 1] == ("punct", value)
        after = k + 3 < len(items) and items[k + 3] == ("punct", value)
        return not before and not after
    return False


def _yes_no(text: str, language: str) -> Parsed | None:
    tokens = _tokens(_fold(text))
    variants = _variants_of(tokens)
    signals: list[tuple[str, int, int]] = []  # (role, kind of yes, token index)
    roles: list[str] = []
    rhetorical_ends: set[int] = set()  # token indexes next to "why not", where a question mark is fine
    i = 0
    while i < len(tokens):
        found = _YES_NO_LEXICON.match(variants, i)
        if found:
            length, (role, flavour) = found
            if role == RHETORICAL:
                rhetorical_ends.update((i - 1, i + length))
                role, flavour = YES, 0
            signals.append((role, flavour, i))
            roles.append(role)
            i += length
        else:
            roles.append("punct" if not tokens[i][0].isalnum() else "unknown")
            signals.append(("digit" if tokens[i].isdigit() else roles[-1], 0, i))
            i += 1
    if any(t in _QUESTION_MARKS and k not in rhetorical_ends for k, t in enumerate(tokens)):
        return None
    if _is_question(tokens, roles, marks=False):
        return None

    yes = no = unsure = 0
    weak_yes = 0
    digits: list[str] = []
    pending_negator = -1  # the signal index of a negator that a following yes word turns into no
    for index, (role, flavour, position) in enumerate(signals):
        if role in (NEGATOR, NO):
            pending_negator = index  # "no estoy de acuerdo", "pas d'accord": a yes word after it is a no
            no += 1
            continue
        if role == YES:
            negated = (
                flavour
                and pending_negator >= 0
                and index - pending_negator <= 3
                and all(signals[j][0] != "punct" for j in range(pending_negator + 1, index))
            )
            if negated:
                no -= 1  # the negator is counted once, as what it negates
                if flavour == 2:
                    unsure += 1
                else:
                    no += 1
            else:
                yes += 1
            pending_negator = -1
        elif role == UNSURE:
            unsure += 1
        elif role == WEAK_YES:
            weak_yes += 1
        elif role == "digit":
            digits.append(tokens[position])
    if unsure and (yes or no) and LATER in roles:
        # "Nope, maybe next month", "oui, peut-être plus tard": the clear answer said first is today's; the
        # hedge is about another time.
        first_answer = next(k for k, (role, _, _) in enumerate(signals) if role in (YES, NO, NEGATOR))
        first_hedge = next(k for k, (role, _, _) in enumerate(signals) if role == UNSURE)
        if first_answer < first_hedge:
            unsure = 0
    if unsure:
        return None
    if not yes and not no and weak_yes:
        yes = 1
    if not yes and not no and len(digits) == 1 and digits[0] in ("1", "2"):
        # The options as the re-ask lists them: 1 yes, 2 no.
        yes, no = digits[0] == "1", digits[0] == "2"
    if yes and not no:
        return Parsed(choices=(1,), value="yes")
    if no and not yes:
        return Parsed(choices=(2,), value="no")
    return None  # neither, or both: "yes no"


# Numbers as written: thousands grouped ("1,000", "1.000", "1 000" with a narrow space), decimals, a sign.
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})((?:[,.\u00a0\u202f](?:\d{3}))+)(?![\d]|[.,]\d)")
_DECIMAL = re.compile(r"\d[.,]\d")
_NEGATIVE = re.compile(r"(?:^|(?<=\s))[-\u2212](?=\d)")


def _number(text: str, language: str, low: int | None, high: int | None) -> Parsed | None:
    folded = _fold(text, keycaps_together=True)
    folded = _GROUPED.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), folded)
    if _DECIMAL.search(folded):
        return None  # "34.5", "1,5": not a whole number (questions ask for whole numbers)
    negative_at = {m.start() for m in _NEGATIVE.finditer(folded)}
    folded = _NEGATIVE.sub(" minus", folded)
    tokens = _tokens(folded)
    variants = _variants_of(tokens)
    values: list[int] = []
    weak: list[int] = []
    roles: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isdigit():
            sign = -1 if i and tokens[i - 1] == "minus" and negative_at else 1
            number = sign * int(token)
            if roles[-2:] == ["num", SCALE] and values and number >= values[-1]:
                roles.append(SCALE)  # "7 out of 10": the 10 is the scale, not an answer
            else:
                values.append(number)
                roles.append("num")
            i += 1
            continue
        compound = _GERMAN_COMPOUND.fullmatch(token)
        if compound:
            values.append(_GERMAN_UNITS[compound.group(1)] + _GERMAN_TENS[compound.group(2)])
            roles.append("num")
            i += 1
            continue
        found = _NUMBER_LEXICON.match(variants, i)
        if found and _false_friend(token, language, text):
            found = None
        if found and found[1][0] == CORRECTION:
            values.clear()  # "30 no wait, 31"
            weak.clear()
        if not found or found[1][0] not in (NUMWORD, WEAK):
            roles.append(found[1][0] if found else ("unknown" if token[0].isalnum() else "punct"))
            i += found[0] if found else 1
            continue
        value, i = _number_words(variants, i, found)
        (weak if found[1][0] == WEAK and value == 1 else values).append(value)
        roles.append("num")
    if _is_question(tokens, roles):
        return None
    if not values:
        values = weak  # "un enfant": one, when no other number is given
    distinct = set(values)
    if len(distinct) != 1:
        return None  # none, or several ("30 or 40", "between 30 and 35")
    number = distinct.pop()
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return Parsed(value=str(number))


def _number_words(variants: list[tuple[str, ...]], i: int, found: tuple[int, _Role]) -> tuple[int, int]:
    """A number written in words from token i: "thirty four", "trente-quatre", "soixante et onze",
    "quatre-vingt-dix", "treinta y cuatro", "أربعة وثلاثون", "ثلاثة عشر". Returns (value, next index)."""
    length, (_, value) = found
    i += length
    while i < len(variants):
        j = i
        if variants[j][0] in ("-", "and", "et", "y", "und", "و") and j + 1 < len(variants):
            j += 1
        following = _NUMBER_LEXICON.match(variants, j)
        if not following or following[1][0] not in (NUMWORD, WEAK):
            break
        step = following[1][1]
        connector = variants[i][0] if j > i else ""
        if value >= 20 and value % 10 == 0 and value < 100 and 1 <= step <= 9:
            value += step  # thirty four, trente-quatre, treinta y cuatro
        elif value in (60, 80) and 10 <= step <= 19:
            value += step  # soixante-dix, quatre-vingt-onze
        elif value == 4 and variants[j][0] in ("vingt", "vingts") and connector in ("", "-"):
            value = 80  # quatre-vingt(s)
        elif value == 10 and 7 <= step <= 9 and connector in ("", "-"):
            value += step  # dix-sept
        elif 1 <= value <= 9 and step >= 20 and step % 10 == 0 and step < 100:
            value += step  # أربعة وثلاثون: the unit first
        elif 1 <= value <= 9 and step == 10 and not connector:
            value += 10  # ثلاثة عشر
        elif 1 <= value <= 9 and step == 100 and not connector:
            value *= 100
        else:
            break
        i = j + following[0]
    return value, i
