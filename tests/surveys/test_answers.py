"""The answer parser, feature by feature: what a member may reply to each kind of question and what it means.
The table of real-looking replies (test_answers_table.py) measures the whole; these pin each rule down."""

from __future__ import annotations

import pytest

from surveys.answers import ChoiceSpec, Parsed, answer_parse

ISSUES = (
    ChoiceSpec(1, ("Health", "Santé", "Salud", "الصحة", "Gesundheit"), ("healthcare",)),
    ChoiceSpec(2, ("Housing", "Logement", "Vivienda", "السكن", "Wohnen"), ("rent", "loyer", "alquiler")),
    ChoiceSpec(3, ("Climate", "Climat", "Clima", "المناخ", "Klima")),
    ChoiceSpec(4, ("Jobs", "Emploi", "Empleo", "الوظائف", "Arbeit")),
)
TIMES = (ChoiceSpec(1, ("Morning",)), ChoiceSpec(2, ("Afternoon",)), ChoiceSpec(3, ("Evening",)))
FREE = (
    ChoiceSpec(1, ("Weekday mornings",)),
    ChoiceSpec(2, ("Weekday evenings",)),
    ChoiceSpec(3, ("Saturdays",)),
    ChoiceSpec(4, ("Sundays",)),
)
HEARD = (
    ChoiceSpec(1, ("A friend or family",)),
    ChoiceSpec(2, ("Social media",)),
    ChoiceSpec(3, ("An event",)),
    ChoiceSpec(4, ("The news",)),
    ChoiceSpec(5, ("Other",)),
)


def picked(
    text: str, *, choices=ISSUES, kind: str = "multiple", language: str = ""
) -> tuple[int, ...] | None:
    parsed = answer_parse(kind=kind, text=text, choices=choices, language=language)
    return None if parsed is None else parsed.choices


def yes_no(text: str, language: str = "") -> str | None:
    parsed = answer_parse(kind="yes_no", text=text, language=language)
    return None if parsed is None else parsed.value


def number(text: str, low: int | None = 0, high: int | None = 120, language: str = "") -> str | None:
    parsed = answer_parse(kind="number", text=text, number_min=low, number_max=high, language=language)
    return None if parsed is None else parsed.value


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("3", (3,)),
        ("١", (1,)),  # Arabic-Indic
        ("٣", (3,)),
        ("۴", (4,)),  # Extended Arabic-Indic (Persian, Urdu)
        ("２", (2,)),  # full-width
        ("③", (3,)),  # circled
        ("➋", (2,)),  # dingbat
        ("३", (3,)),  # Devanagari: any script's digits
        ("3️⃣", (3,)),  # keycap emoji
        ("3⃣", (3,)),  # keycap without the emoji selector
        ("1️⃣ 3️⃣", (1, 3)),
        ("1️⃣3️⃣", (1, 3)),  # keycaps side by side are two digits
    ],
)
def test_digits_are_read_in_any_script_and_as_keycap_emoji(text, choices):
    assert picked(text) == choices


def test_keycap_ten_is_ten():
    ten = tuple(ChoiceSpec(n, (f"Option {n}",)) for n in range(1, 11))
    assert picked("🔟", choices=ten, kind="single") == (10,)
    assert picked("🔟") is None  # no tenth issue


@pytest.mark.parametrize(
    "text",
    [
        "1,3",
        "1, 3",
        "1 3",
        "1 et 3",
        "1 y 3",
        "1 and 3",
        "1 & 3",
        "1+3",
        "1و3",
        "١و٣",
        "١ و ٣",
        "١،٣",
        "۱ و ۳",
        "1/3",
        "1;3",
        "1.3",
        "1 und 3",
        "1 e 3",
        "1\n3",
        "13",
        "3,1",
        "1,3,3",
        "1 or 3",
    ],
)
def test_lists_are_read_with_any_separator(text):
    assert picked(text) == (1, 3)


def test_run_together_digits_split_only_when_every_option_is_one_digit_and_the_number_is_no_option():
    many = tuple(ChoiceSpec(n, (f"Option {n}",)) for n in range(1, 13))
    assert picked("13") == (1, 3)
    assert picked("134") == (1, 3, 4)
    assert picked("12", choices=many) == (12,)  # an option of its own
    assert picked("13", choices=many) is None  # options go to 12: 13 is out of range, not 1 and 3
    assert picked("10") is None  # 1 and 0: there is no option 0


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("1 to 3", (1, 2, 3)),
        ("1-3", (1, 2, 3)),
        ("del 1 al 3", (1, 2, 3)),
        ("de 2 à 4", (2, 3, 4)),
        ("1-3-4", (1, 3, 4)),  # three numbers joined by dashes are a list
    ],
)
def test_ranges_of_options(text, choices):
    assert picked(text) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("Health", (1,)),
        ("housing", (2,)),
        ("HOUSING!!", (2,)),
        ("santé", (1,)),
        ("sante", (1,)),  # accents folded
        ("SANTÉ", (1,)),
        ("salud y vivienda", (1, 2)),
        ("Santé et logement", (1, 2)),
        ("Gesundheit und Klima", (1, 3)),
        ("الصحة والسكن", (1, 2)),  # "and" joined to the word, the article dropped
        ("الصِّحَّة", (1,)),  # Arabic vowel marks folded
        ("صحة", (1,)),  # without the article
        ("للصحة", (1,)),
        ("والوظائف", (4,)),
        ("alquiler", (2,)),  # a synonym the team wrote
        ("loyer et climat", (2, 3)),
        ("healthcare and jobs", (1, 4)),
        ("climate change", (3,)),
        ("Klimawandel", (3,)),  # a compound built on the label
        ("Arbeitsplätze", (4,)),
        ("jobs, jobs, jobs", (4,)),
        ("emplois", (4,)),  # a plural
        ("job", (4,)),
    ],
)
def test_choice_labels_in_any_language_case_accent_and_mark_insensitive(text, choices):
    assert picked(text) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("helth", (1,)),
        ("hosuing", (2,)),  # two letters swapped: one typo
        ("climat change", (3,)),
        ("vivenda", (2,)),
        ("enviromnent", None),  # no such option (environment is not an issue here)
        ("jbos", (4,)),  # four letters: one typo (a swap) forgiven
        ("hat", None),  # three letters: no typo forgiven
    ],
)
def test_small_typos_are_forgiven_in_proportion_to_the_word(text, choices):
    assert picked(text) == choices


def test_a_word_several_options_share_names_them_all_unless_something_more_precise_is_said():
    assert picked("weekdays", choices=FREE) == (1, 2)
    assert picked("weekday mornings", choices=FREE) == (1,)
    assert picked("weekdays", choices=FREE, kind="single") is None


@pytest.mark.parametrize(
    ("text", "choices", "options", "language"),
    [
        ("my sister", (1,), HEARD, "en"),
        ("ma mère", (1,), HEARD, "fr"),
        ("mi mamá", (1,), HEARD, "es"),
        ("أخوي قال لي", (1,), HEARD, "ar"),
        ("a coworker", (1,), HEARD, "en"),
        ("le soir", (3,), TIMES, "fr"),
        ("bei Nacht", (3,), TIMES, "de"),
        ("بالليل 🌙", (3,), TIMES, "ar"),
        ("la mañana", (1,), TIMES, "es"),
        ("samedi", (3,), FREE, "fr"),
        ("weekends", (3, 4), FREE, "en"),
        ("le week-end", (3, 4), FREE, "fr"),
        ("los fines de semana", (3, 4), FREE, "es"),
        ("am Wochenende", (3, 4), FREE, "de"),
    ],
)
def test_everyday_words_name_the_option_that_says_the_same(text, choices, options, language):
    assert picked(text, choices=options, language=language) == choices


def test_the_weekend_is_friday_and_saturday_for_a_member_writing_arabic():
    days = (
        ChoiceSpec(1, ("الخميس",)),
        ChoiceSpec(2, ("الجمعة",)),
        ChoiceSpec(3, ("السبت",)),
        ChoiceSpec(4, ("الأحد",)),
    )
    assert picked("نهاية الأسبوع", choices=days, language="ar") == (2, 3)
    assert picked("weekend", choices=days, language="en") == (3, 4)


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("all", (1, 2, 3, 4)),
        ("All of them!", (1, 2, 3, 4)),
        ("tout", (1, 2, 3, 4)),
        ("todos", (1, 2, 3, 4)),
        ("alle", (1, 2, 3, 4)),
        ("الكل", (1, 2, 3, 4)),
        ("all except 2", (1, 3, 4)),
        ("all but 2", (1, 3, 4)),
        ("tout sauf le 2", (1, 3, 4)),
        ("todos menos el 2", (1, 3, 4)),
        ("alle außer 2", (1, 3, 4)),
        ("الكل ما عدا ٢", (1, 3, 4)),
        ("1, 3 but not 2", (1, 3)),
        ("1 and 3, that's all", (1, 3)),  # "that's all" ends the list
        ("1 et 3 c'est tout", (1, 3)),
        ("both 1 and 3", (1, 3)),
        ("not 2", None),
        ("both", None),  # four options: which two?
    ],
)
def test_all_both_none_and_except(text, choices):
    assert picked(text) == choices


def test_both_is_every_option_of_two():
    two = (ChoiceSpec(1, ("Phone",)), ChoiceSpec(2, ("Email",)))
    for text in ("both", "les deux", "ambos", "beide", "كلاهما"):
        assert picked(text, choices=two) == (1, 2), text


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("first", (1,)),
        ("the first one", (1,)),
        ("the second one", (2,)),
        ("la deuxième", (2,)),
        ("le premier", (1,)),
        ("el segundo", (2,)),
        ("la tercera", (3,)),
        ("die zweite", (2,)),
        ("الأول", (1,)),
        ("الخيار الثالث", (3,)),
        ("1st and 3rd", (1, 3)),
        ("2e", (2,)),
        ("first and third", (1, 3)),
        ("the last one", (4,)),
        ("la dernière", (4,)),
        ("the first two", (1, 2)),
        ("les deux premiers", (1, 2)),
        ("los dos primeros", (1, 2)),
        ("die ersten beiden", (1, 2)),
        ("the last two", (3, 4)),
        ("the first five", None),  # there are four
    ],
)
def test_ordinals(text, choices):
    assert picked(text) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("one and three", (1, 3)),
        ("two", (2,)),
        ("uno y tres", (1, 3)),
        ("le un et le trois", (1, 3)),
        ("eins und drei", (1, 3)),
        ("واحد وثلاثة", (1, 3)),
        ("option one", (1,)),
        ("un peu de tout", (1, 2, 3, 4)),  # "un" is an article here
        ("trois", (3,)),
    ],
)
def test_number_words_name_options(text, choices):
    assert picked(text) == choices


def test_a_word_that_is_a_number_in_another_language_is_not_one_in_the_members():
    assert picked("tres", language="es") == (3,)
    assert picked("très important le 2", language="fr") == (2,)
    assert picked("très important le 2") == (2,)  # the accent tells the French word apart


@pytest.mark.parametrize(
    "text",
    [
        "Hi! 1 and 3 please, thanks 😊",
        "Bonjour, pour moi c'est le 1 et le 3. Merci !",
        "Hola, el 1 y el 3 por favor 🙏",
        "مرحبا، رقم ١ و ٣ شكراً",
        "Hallo, ich wähle 1 und 3, danke",
        "I'd say health and climate",
        "option 1 and option 3",
        "No. 1 and No. 3",
        "#1 #3",
        "1) 3)",
        "👍 1 & 3 ❤️",
    ],
)
def test_polite_wrapping_and_emoji_around_an_answer(text):
    assert picked(text) == (1, 3)


@pytest.mark.parametrize(
    "text",
    [
        "5",  # out of range
        "0",
        "15",  # 1 and 5: there is no option 5
        "transport",  # no such option
        "I have 3 kids",  # a quantity, not an option
        "what is 3?",  # a question back
        "c'est quoi le 2",
        "¿qué es el 3?",
        "ما هو ٣؟",
        "was ist 3?",
        "who is this",
        "hello",
        "👍",
        "2 but not 2",
        "",
        "   ",
    ],
)
def test_unclear_replies_are_none(text):
    assert picked(text) is None


@pytest.mark.parametrize("text", ["1,3", "1 et 3", "health and jobs", "all", "13", "1 or 2"])
def test_several_choices_for_a_single_choice_question_are_unclear(text):
    assert picked(text, kind="single") is None


def test_a_single_choice_is_one_position():
    assert answer_parse(kind="single", text="logement", choices=ISSUES) == Parsed(choices=(2,), value="2")
    assert answer_parse(kind="multiple", text="3, 1", choices=ISSUES) == Parsed(choices=(1, 3), value="1,3")


def test_a_choice_question_without_options_understands_nothing():
    assert answer_parse(kind="single", text="1", choices=()) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("Yes!", "yes"),
        ("YES 🙌", "yes"),
        ("yesss", "yes"),
        ("y", "yes"),
        ("sure", "yes"),
        ("of course", "yes"),
        ("ok", "yes"),
        ("oui", "yes"),
        ("ouais", "yes"),
        ("bien sûr", "yes"),
        ("d'accord", "yes"),
        ("sí", "yes"),
        ("si claro", "yes"),
        ("de acuerdo", "yes"),
        ("vale", "yes"),
        ("ja", "yes"),
        ("na klar", "yes"),
        ("gerne", "yes"),
        ("نعم", "yes"),
        ("أكيد", "yes"),
        ("ايوه", "yes"),
        ("👍", "yes"),
        ("👍🏽", "yes"),
        ("✅", "yes"),
        ("why not?", "yes"),
        ("¿por qué no?", "yes"),
        ("pourquoi pas", "yes"),
        ("no problem", "yes"),
        ("pas de souci", "yes"),
        ("I will", "yes"),
        ("1", "yes"),
        ("no", "no"),
        ("nope", "no"),
        ("noo", "no"),
        ("n", "no"),
        ("non merci", "no"),
        ("pas du tout", "no"),
        ("pas d'accord", "no"),
        ("no estoy de acuerdo", "no"),
        ("claro que no", "no"),
        ("nein", "no"),
        ("auf keinen Fall", "no"),
        ("لا", "no"),
        ("مش موافق", "no"),
        ("👎", "no"),
        ("❌", "no"),
        ("of course not", "no"),
        ("I am not", "no"),
        ("No sorry, working", "no"),
        ("Je ne pense pas", "no"),
        ("2", "no"),
    ],
)
def test_yes_and_no_in_five_languages_and_emoji(text, value):
    assert yes_no(text) == value


def test_yes_and_no_carry_the_positions_one_and_two():
    assert answer_parse(kind="yes_no", text="oui") == Parsed(choices=(1,), value="yes")
    assert answer_parse(kind="yes_no", text="non") == Parsed(choices=(2,), value="no")


@pytest.mark.parametrize(
    "text",
    [
        "yes no",
        "yes and no",
        "oui et non",
        "نعم ولا",
        "maybe",
        "peut-être",
        "quizás",
        "vielleicht",
        "ربما",
        "not sure",
        "pas sûr",
        "I'm not so sure",
        "I don't know",
        "je ne sais pas",
        "no sé",
        "weiß nicht",
        "لا أعرف",
        "what?",
        "who is this",
        "is it free?",
        "hello",
        "3",
    ],
)
def test_contradictions_hedges_and_questions_are_not_a_yes_or_a_no(text):
    assert yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("34", "34"),
        ("I'm 34", "34"),
        ("34 years old", "34"),
        ("19 yrs", "19"),
        ("j'ai 34 ans", "34"),
        ("Tengo 34 años", "34"),
        ("Ich bin 34 Jahre alt", "34"),
        ("عمري ٣٤", "34"),
        ("٣٤ سنة", "34"),
        ("۳۴", "34"),
        ("３４", "34"),
        ("3️⃣4️⃣", "34"),  # keycaps side by side are one number here
        ("thirty four", "34"),
        ("thirty-four", "34"),
        ("trente-quatre", "34"),
        ("trente et un", "31"),
        ("soixante-dix", "70"),
        ("soixante et onze", "71"),
        ("quatre-vingts", "80"),
        ("quatre-vingt-dix", "90"),
        ("dix-sept", "17"),
        ("treinta y cuatro", "34"),
        ("veinticuatro", "24"),
        ("vierunddreißig", "34"),
        ("أربعة وثلاثون", "34"),
        ("خمسة وعشرين", "25"),
        ("ثلاثة عشر", "13"),
        ("five", "5"),
        ("zero", "0"),
        ("none", "0"),
        ("just me", "1"),
        ("juste moi", "1"),
        ("solo yo", "1"),
        ("أنا لوحدي", "1"),
        ("un enfant", "1"),
        ("3 of us", "3"),
        ("7 out of 10", "7"),
        ("7 sur 10", "7"),
        ("7 de 10", "7"),
        ("٧ من ١٠", "7"),
        ("10/10", "10"),
        ("9!", "9"),
        ("about 30", "30"),
    ],
)
def test_numbers_with_words_around_them_and_number_words(text, value):
    assert number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "150",  # above the question's maximum
        "34.5",  # not a whole number
        "30-35",
        "30 or 40",
        "between 30 and 40",
        "how old?",
        "why do you ask",
        "old enough",
        "",
    ],
)
def test_unclear_numbers_are_none(text):
    assert number(text) is None


def test_a_number_is_checked_against_the_questions_bounds():
    assert number("12", low=13, high=120) is None
    assert number("13", low=13, high=120) == "13"
    assert number("-5", low=None, high=None) == "-5"
    assert number("-5", low=0, high=None) is None
    assert number("1,000", low=None, high=None) == "1000"


def test_free_text_is_the_text_trimmed():
    assert answer_parse(kind="text", text="  better buses  ") == Parsed(value="better buses")
    assert answer_parse(kind="text", text="More parks for kids 🌳") == Parsed(value="More parks for kids 🌳")
    assert answer_parse(kind="text", text="   ") is None


def test_an_edited_question_is_indexed_anew():
    before = (ChoiceSpec(1, ("Parks",)), ChoiceSpec(2, ("Roads",)))
    after = (ChoiceSpec(1, ("Parks",)), ChoiceSpec(2, ("Bridges",)))
    assert picked("roads", choices=before) == (2,)
    assert picked("roads", choices=after) is None
    assert picked("bridges", choices=after) == (2,)


@pytest.mark.parametrize(
    "text",
    [
        "none",
        "None of these, sorry, too busy right now",
        "Aucun, désolé 🙏",
        "ninguna, perdón",
        "keins, sorry",
        "ولا واحدة، آسف",
        "nothing",
        "rien",
        "والو",
    ],
)
def test_none_is_an_answer_to_a_multiple_choice_question(text):
    assert answer_parse(kind="multiple", text=text, choices=ISSUES) == Parsed(choices=(), value="none")


@pytest.mark.parametrize("text", ["none", "aucun", "ولا واحدة"])
def test_none_is_unclear_where_one_option_must_be_chosen(text):
    assert picked(text, kind="single") is None


@pytest.mark.parametrize(
    ("text", "choices"), [("none, 2", None), ("2, nothing else", (2,)), ("le 2, rien d'autre", (2,))]
)
def test_none_beside_an_option_is_unclear_but_nothing_else_ends_a_list(text, choices):
    assert picked(text) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("التانية والتالتة", (2, 3)),  # ث spoken and written as ت
        ("التاني", (2,)),
        ("التقافة", (5,)),
        ("هدا الأول", (1,)),  # ذ as د: "هذا" is a filler
    ],
)
def test_dialect_spellings_of_arabic_letters_are_folded(text, choices):
    options = (*ISSUES, ChoiceSpec(5, ("Culture", "الثقافة")))
    assert picked(text, choices=options) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("both 3 and 4 work", (3, 4)),  # "work": they suit, not a fourth thing
        ("3 and 4 work for me", (3, 4)),
        ("sowohl 3 als auch 4", (3, 4)),
        ("3 pis 4", (3, 4)),  # Québec "puis"
        ("1 ainsi que 3", (1, 3)),
        ("le 2 et le 3 me vont", (2, 3)),
        ("1 y 3 me vienen bien", (1, 3)),
        ("2 und 4 passen", (2, 4)),
        ("I have 3 kids", None),  # a noun after a number is still a quantity
    ],
)
def test_constructions_that_list_options(text, choices):
    assert picked(text, choices=FREE) == choices


@pytest.mark.parametrize(
    "text",
    [
        "2 doesn't work",
        "3 does not work",
        "le 2 marche pas",
        "2 no me va",
        "2 geht nicht",
        "2 is not good",
        "weekends don't work",
        "2 works, 3 doesn't",  # the last option said is taken back: unclear, not "2 and 3"
        "I don't want 2",
    ],
)
def test_an_option_said_not_to_suit_is_no_answer(text):
    assert picked(text, choices=FREE) is None


@pytest.mark.parametrize(
    ("text", "choices", "kind"),
    [
        ("4 no wait, 3. it was at the fair", (3,), "single"),
        ("2, je veux dire 3", (3,), "single"),
        ("el 1, digo, el 2", (2,), "single"),
        ("2 nein warte 3", (3,), "single"),
        ("٢ لا استنى ٣", (3,), "single"),
        ("1 no wait 2 and 3", (2, 3), "multiple"),
        ("wait, what is 3", None, "single"),  # a question back
    ],
)
def test_a_self_correction_takes_back_what_came_before(text, choices, kind):
    assert picked(text, choices=HEARD, kind=kind) == choices


def test_a_self_correction_in_a_number():
    assert number("30 no wait 31") == "31"
    assert number("34, I mean 35") == "35"


HELP = (
    ChoiceSpec(1, ("Knock on doors", "Porte-à-porte", "Puerta a puerta", "Haustürbesuche", "زيارة البيوت")),
    ChoiceSpec(2, ("Phone calls", "Appels téléphoniques", "Llamadas", "Telefonieren", "إجراء مكالمات")),
    ChoiceSpec(
        3, ("Host an event", "Organiser une rencontre", "Organizar un evento", "Ein Treffen", "تنظيم لقاء")
    ),
    ChoiceSpec(4, ("Donate", "Faire un don", "Hacer una donación", "Spenden machen", "التبرع")),
    ChoiceSpec(
        5,
        (
            "Share online",
            "Partager sur les réseaux",
            "Compartir en redes",
            "Teilen",
            "النشر على مواقع التواصل",
        ),
    ),
)


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("je peux faire du porte a porte", (1,)),  # "faire" is no option of its own
        ("puedo hacer llamadas", (2,)),
        ("ich kann Telefonieren machen", (2,)),
        ("I can make calls", (2,)),
        ("faire un don", (4,)),  # the whole label still names it
    ],
)
def test_do_make_and_can_name_no_option(text, choices):
    assert picked(text, choices=HELP) == choices


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("أنشر", (5,)),  # I post
        ("سأنشر", (5,)),  # I will post
        ("بنشر", (5,)),  # I post (Levantine, Egyptian)
        ("ممكن أتبرع وأنشر على الفيس", (4, 5)),
        ("سأتبرع", (4,)),
    ],
)
def test_an_arabic_verb_in_the_present_names_its_option(text, choices):
    assert picked(text, choices=HELP, language="ar") == choices


@pytest.mark.parametrize(
    ("text", "options", "choices"),
    [
        (
            "من الانستا",
            (
                ChoiceSpec(1, ("عن طريق صديق",)),
                ChoiceSpec(2, ("مواقع التواصل",)),
                ChoiceSpec(3, ("الأخبار",)),
            ),
            (2,),
        ),
        ("insta", HEARD, (2,)),
        ("on fb", HEARD, (2,)),
        ("الفيس", HELP, (5,)),
        ("TikTok", HELP, (5,)),
        ("insta", ISSUES, None),  # no option about social media
    ],
)
def test_social_networks_by_name_and_nickname_name_an_option_about_social_media(text, options, choices):
    assert picked(text, choices=options) == choices


def test_weekends_in_the_plural():
    semaine = (
        ChoiceSpec(1, ("En semaine le matin",)),
        ChoiceSpec(2, ("En semaine le soir",)),
        ChoiceSpec(3, ("Le samedi",)),
        ChoiceSpec(4, ("Le dimanche",)),
    )
    assert picked("les fins de semaine", choices=semaine) == (3, 4)  # the Québec word for the weekend
    assert picked("la semaine", choices=semaine) == (1, 2)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("pantoute", "no"),  # Québec
        ("pas pantoute", "no"),
        ("ouin", "yes"),
        ("simón, cuenten conmigo", "yes"),  # Mexico
        ("órale", "yes"),
        ("nei", "no"),  # Swiss German
        ("nei danke", "no"),
        ("gärn", "yes"),
        ("واخا", "yes"),  # Morocco
        ("ابشر", "yes"),  # the Gulf
        ("aywa", "yes"),  # Arabizi
        ("na3am", "yes"),
        ("laa", "no"),
        ("la2", "no"),
        ("certain", "yes"),
        ("pas certain", None),
    ],
)
def test_yes_and_no_in_regional_words_and_arabizi(text, value):
    assert yes_no(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ولا واحدة لسه", "0"),
        ("ولا وحدة", "0"),
        ("والو", "0"),
        ("wir sind zu viert", "4"),
        ("zu zweit", "2"),
        ("zu zehnt", "10"),
    ],
)
def test_none_in_arabic_dialects_and_german_counts_of_people(text, value):
    assert number(text) == value


ACTIONS = (
    ChoiceSpec(
        1, ("Knock on doors", "Porte-à-porte", "Tocar puertas", "زيارة البيوت", "Von Tür zu Tür gehen")
    ),
    ChoiceSpec(2, ("Make phone calls", "Appels téléphoniques", "Hacer llamadas", "Anrufe machen")),
    ChoiceSpec(3, ("Host an event", "Organiser une réunion", "Organizar un evento", "تنظيم فعالية")),
    ChoiceSpec(4, ("Hand out flyers", "Distribuer des tracts", "Repartir volantes", "توزيع منشورات")),
    ChoiceSpec(5, ("Drive people to the polls", "Conduire des gens aux urnes")),
)
PLACES = (
    ChoiceSpec(1, ("Downtown", "Centre-ville", "Centro", "وسط المدينة", "Innenstadt")),
    ChoiceSpec(2, ("North side", "Nord", "Norte", "الشمال")),
    ChoiceSpec(3, ("South side", "Sud", "Sur", "الجنوب", "Süd")),
    ChoiceSpec(
        4,
        ("Outside the city", "Hors de la ville", "Fuera de la ciudad", "خارج المدينة", "Außerhalb der Stadt"),
    ),
)
MEDIA = (
    ChoiceSpec(1, ("A friend or family", "Un amigo o familiar", "صديق أو قريب")),
    ChoiceSpec(2, ("Social media",)),
    ChoiceSpec(3, ("TV or radio", "الراديو أو التلفزيون", "Radio oder Fernsehen")),
)
DAYS = tuple(
    ChoiceSpec(k, labels)
    for k, labels in enumerate(
        (
            ("Monday", "Lundi", "Lunes", "Montag"),
            ("Wednesday", "Mercredi", "Miércoles", "Mittwoch", "الأربعاء"),
            ("Friday", "Vendredi", "Viernes", "Freitag", "الجمعة"),
            ("Saturday", "Samedi", "Sábado", "Samstag", "السبت"),
            ("Sunday", "Dimanche", "Domingo", "Sonntag", "الأحد"),
        ),
        1,
    )
)


@pytest.mark.parametrize(
    ("text", "choices", "expected"),
    [
        ("Le boulot et l'école surtout", ISSUES, (4,)),  # "école" is no option of ISSUES
        ("la chamba y la vivienda", ISSUES, (2, 4)),
        ("el laburo", ISSUES, (4,)),
        ("curro", ISSUES, (4,)),
        ("الشغل والسكن", ISSUES, (2, 4)),
        ("الخدمة", ISSUES, (4,)),
        ("mein Job", ISSUES, (4,)),
        ("taf et loyer", ISSUES, (2, 4)),
        ("the hospitals", ISSUES, (1,)),
        ("les médecins", ISSUES, (1,)),
        ("pollution", ISSUES, (3,)),
        ("la renta y los médicos", ISSUES, (1, 2)),
        ("door knocking and driving folks", ACTIONS, (1, 5)),
        ("canvassing", ACTIONS, (1,)),
        ("phone banking", ACTIONS, (2,)),
        ("llamar por teléfono", ACTIONS, (2,)),
        ("leafleting", ACTIONS, (4,)),
        ("des rencontres", ACTIONS, (3,)),
        ("por mi comadre", MEDIA, (1,)),
        ("mi cuate", MEDIA, (1,)),
        ("خويي قال لي", MEDIA, (1,)),
        ("شفتكم ف التلفزة", MEDIA, (3,)),
        ("à la télé", MEDIA, (3,)),
        ("im Fernseher", MEDIA, (3,)),
        ("television", ISSUES, None),  # no option about TV: the concept joins nothing
        ("boulot", PLACES, None),
    ],
)
def test_everyday_synonyms_name_an_option_of_the_same_concept(text, choices, expected):
    assert picked(text, choices=choices) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j'habite en dehors de la ville", (4,)),
        ("ساكن برا المدينة", (4,)),
        ("in the suburbs", (4,)),
        ("en las afueras", (4,)),
        ("la ville", None),  # the city: downtown or outside, no one can tell
        ("in the center", (1,)),
        ("Sued", (3,)),  # German without its umlaut
        ("SUED", (3,)),
        ("Ausserhalb", (4,)),
        ("the 4th one", (4,)),
        ("la 2e", (2,)),
        ("le 3ème", (3,)),
        ("the first one", (1,)),
    ],
)
def test_where_a_member_lives_in_everyday_words_umlauts_spelt_out_and_the_nth_one(text, expected):
    assert picked(text, choices=PLACES, kind="single") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sat only", (4,)),
        ("sam et dim", (4, 5)),
        ("mié y vie", (2, 3)),
        ("Mi, Fr", (2, 3)),  # Mittwoch, Freitag
        ("Sa und So", (4, 5)),
        ("Mo", (1,)),
        ("mon", (1,)),
        ("fri", (3,)),
        ("mi hermana", None),  # "mi" is "my" when more than days is said
        ("do what you want", None),
        ("so so", (5,)),  # a reply of days alone
    ],
)
def test_weekday_abbreviations_in_every_language(text, expected):
    assert picked(text, choices=DAYS) == expected


def test_day_abbreviations_name_nothing_where_no_option_is_a_day():
    assert picked("Mi, Fr", choices=ISSUES) is None
    assert picked("sat", choices=ISSUES) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Nope, maybe next month", "no"),
        ("non, peut-être plus tard", "no"),
        ("no, quizás el mes que viene", "no"),
        ("nein, vielleicht später", "no"),
        ("لا، يمكن بعدين", "no"),
        ("yes, maybe next week too", "yes"),
        ("maybe later", None),  # a hedge and nothing clear
        ("maybe, no", None),
        ("grave !", "yes"),  # French slang
        ("ouais grave", "yes"),
        ("bet", "yes"),
        ("pas grave", None),
    ],
)
def test_a_clear_answer_stays_with_a_hedge_about_later_and_slang_yes(text, value):
    assert yes_no(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("como 12 al mes", "12"),
        ("about 12", "12"),
        ("environ 12", "12"),
        ("حوالي ١٢", "12"),
        ("etwa 12", "12"),
        ("unos 12", "12"),
        ("como?", None),
        ("about 12 or 13", None),
    ],
)
def test_a_number_given_roughly_is_that_number(text, value):
    assert number(text) == value
