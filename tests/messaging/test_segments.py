import math
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from messaging.segments import (
    GSM7,
    GSM7_BASIC_CHARACTERS,
    GSM7_BASIC_TABLE,
    GSM7_EXTENSION_CHARACTERS,
    GSM7_REPLACEMENTS,
    GSM7_TRANSLITERATIONS,
    MAX_BODY_LENGTH,
    PLACEHOLDER_MAX_LENGTHS,
    UCS2,
    SegmentInfo,
    gsm7_suggestions,
    is_gsm7,
    render_template,
    segment_info,
    segment_info_for_template,
    split_segments,
    to_gsm7,
)

EMOJI = "😀"  # outside the Basic Multilingual Plane: a surrogate pair, 2 UTF-16 code units


def units_of(part: str, encoding: str) -> int:
    """Units of ``part`` counted independently of the module, straight from the definitions."""
    if encoding == GSM7:
        return sum(2 if char in GSM7_EXTENSION_CHARACTERS else 1 for char in part)
    return len(part.encode("utf-16-le", "surrogatepass")) // 2


# Sorted so that hypothesis draws reproducibly.
BASIC = sorted(GSM7_BASIC_CHARACTERS)
EXTENSION = sorted(GSM7_EXTENSION_CHARACTERS)

basic_text = st.text(alphabet=st.sampled_from(BASIC), max_size=500)
gsm7_text = st.text(alphabet=st.sampled_from(BASIC + EXTENSION), max_size=500)
# Mostly GSM-7 with some of everything else, so that both encodings and every boundary case get drawn.
any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(BASIC),
        st.sampled_from(EXTENSION),
        st.sampled_from(["á", "ó", "ç", "€", EMOJI, "🏽", "ب", "中"]),
        st.characters(),
    ),
    max_size=500,
)
message_text = st.one_of(basic_text, gsm7_text, any_text)


# Known counts


def test_an_empty_body_is_zero_segments_of_gsm7():
    assert segment_info("") == SegmentInfo(
        encoding=GSM7, segments=0, units=0, per_segment=160, remaining=160, non_gsm_characters=()
    )
    assert split_segments("") == []


def test_160_gsm_characters_fit_one_segment():
    assert segment_info("a" * 160) == SegmentInfo(
        encoding=GSM7, segments=1, units=160, per_segment=160, remaining=0, non_gsm_characters=()
    )


def test_161_gsm_characters_take_two_segments_of_153():
    info = segment_info("a" * 161)

    assert (info.segments, info.per_segment, info.remaining) == (2, 153, 153 - 8)
    assert [len(part) for part in split_segments("a" * 161)] == [153, 8]


def test_306_gsm_characters_fill_two_segments_exactly():
    info = segment_info("a" * 306)

    assert (info.segments, info.remaining) == (2, 0)


def test_307_gsm_characters_take_three_segments():
    assert segment_info("a" * 307).segments == 3


def test_a_400_character_gsm_body_is_three_segments():
    info = segment_info("a" * MAX_BODY_LENGTH)

    assert (info.encoding, info.segments, info.units) == (GSM7, 3, 400)


def test_one_accented_vowel_doubles_the_cost():
    info = segment_info("á" + "a" * (MAX_BODY_LENGTH - 1))

    assert (info.encoding, info.segments, info.units, info.per_segment) == (UCS2, 6, 400, 67)
    assert info.non_gsm_characters == ("á",)


def test_70_ucs2_units_fit_one_segment():
    info = segment_info("á" * 70)

    assert (info.encoding, info.segments, info.per_segment, info.remaining) == (UCS2, 1, 70, 0)


def test_71_ucs2_units_take_two_segments_of_67():
    info = segment_info("á" * 71)

    assert (info.segments, info.per_segment, info.remaining) == (2, 67, 67 - 4)


def test_a_short_message_reports_the_room_left_in_its_segment():
    assert segment_info("Hello").remaining == 155
    assert segment_info("Hola 😀").remaining == 70 - 7


# Extension characters


def test_extension_characters_count_two_septets():
    for char in "^{}\\[]~|€\x0c":
        assert segment_info(char).units == 2, repr(char)
    assert segment_info("€" * 80).segments == 1
    assert segment_info("€" * 81).segments == 2


def test_an_extension_character_straddling_the_boundary_moves_to_the_next_segment():
    text = "a" * 152 + "[" + "a" * 10

    parts = split_segments(text)

    assert parts == ["a" * 152, "[" + "a" * 10]
    assert segment_info(text).remaining == 153 - 12


def test_a_straddling_extension_character_can_cost_a_whole_extra_segment():
    # 306 septets would be exactly two segments by arithmetic, but the "{" cannot straddle the first
    # boundary, which pushes one septet into a third segment.
    text = "a" * 152 + "{" + "a" * 152

    info = segment_info(text)

    assert info.units == 306
    assert info.segments == 3
    assert split_segments(text) == ["a" * 152, "{" + "a" * 151, "a"]


# UCS-2 and surrogate pairs


def test_an_emoji_counts_two_code_units():
    info = segment_info(EMOJI)

    assert (info.encoding, info.units, info.non_gsm_characters) == (UCS2, 2, (EMOJI,))
    assert segment_info(EMOJI * 35).segments == 1
    assert segment_info(EMOJI * 36).segments == 2


def test_a_surrogate_pair_is_never_split_between_segments():
    text = "a" * 66 + EMOJI + "a" * 10

    parts = split_segments(text)

    assert parts == ["a" * 66, EMOJI + "a" * 10]
    assert segment_info(text).units == 78


def test_arabic_text_is_sent_in_ucs2():
    info = segment_info("مرحبا بكم")

    assert info.encoding == UCS2
    assert info.non_gsm_characters == ("م", "ر", "ح", "ب", "ا", "ك")


def test_non_gsm_characters_are_listed_once_in_order_of_first_appearance():
    info = segment_info("Sí, ¿cómo estás? 😀 sí 😀")

    assert info.non_gsm_characters == ("í", "ó", "á", EMOJI)


# The GSM 03.38 alphabet


def test_the_basic_table_has_gsm_03_38_characters_at_their_codes():
    assert len(GSM7_BASIC_TABLE) == 128
    expected = {
        0x00: "@",
        0x01: "£",
        0x02: "$",
        0x03: "¥",
        0x09: "Ç",
        0x0A: "\n",
        0x0D: "\r",
        0x10: "Δ",
        0x11: "_",
        0x1B: "\x1b",
        0x1F: "É",
        0x24: "¤",
        0x40: "¡",
        0x5B: "Ä",
        0x5F: "§",
        0x60: "¿",
        0x7D: "ñ",
        0x7F: "à",
    }
    assert {code: GSM7_BASIC_TABLE[code] for code in expected} == expected
    assert len(GSM7_BASIC_CHARACTERS) == 127  # the escape is not a character of its own


def test_spanish_and_other_european_letters_of_the_basic_table_are_gsm7():
    assert is_gsm7("ñ é ü à ¿ ¡ Ñ Ü Ö Ä ö ä å Å æ Æ ß É ø Ø Ç è ì ò ù")


def test_acute_vowels_other_than_e_are_not_gsm7():
    for char in "áíóúÁÍÓÚ":
        assert not is_gsm7(char), char


def test_capital_grave_vowels_are_not_gsm7_though_the_small_ones_are():
    assert is_gsm7("àèìòù")
    for char in "ÀÈÌÒÙ":
        assert not is_gsm7(char), char


def test_a_small_c_cedilla_is_not_gsm7_though_the_capital_is():
    assert is_gsm7("Ç")
    assert not is_gsm7("ç")


def test_greek_capitals_currency_signs_and_line_breaks_are_gsm7():
    assert is_gsm7("ΔΦΓΛΩΠΨΣΘΞ £¥§¤$€@_\n\r")


def test_greek_letters_outside_the_table_are_not_gsm7():
    for char in "αβΑΒ":  # the capitals here are Greek, not Latin look-alikes
        assert not is_gsm7(char), char


def test_backtick_tab_and_escape_are_not_gsm7():
    for char in "`\t\x1b":
        assert not is_gsm7(char), repr(char)


# Replacements and suggestions


def test_smart_quotes_dashes_and_ellipsis_become_gsm7():
    text = "“Hi” ‘there’ – it’s… — «ok» −1 • a"

    assert to_gsm7(text) == """"Hi" 'there' - it's... - "ok" -1 - a"""


def test_unicode_spaces_become_plain_spaces_and_invisible_characters_disappear():
    assert to_gsm7("a\u00a0b\u2009c\u202fd\u3000e") == "a b c d e"
    assert to_gsm7("in\u00advisible\u200b\ufeff") == "invisible"


def test_to_gsm7_keeps_accents_unless_asked_to_transliterate():
    assert to_gsm7("Papá") == "Papá"
    assert to_gsm7("Papá", transliterate=True) == "Papa"


def test_transliteration_keeps_letters_that_are_already_gsm7():
    assert to_gsm7("Ñandú, él, Ça", transliterate=True) == "Ñandu, él, Ça"


def test_transliteration_strips_the_accent_from_letters_outside_gsm7():
    assert to_gsm7("á í ó ú Á Í Ó Ú ç È ã õ ê ł ő", transliterate=True) == "a i o u A I O U c E a o e l o"


def test_to_gsm7_keeps_characters_it_has_no_replacement_for():
    assert to_gsm7("Gracias 😀 شكرا", transliterate=True) == "Gracias 😀 شكرا"


def test_replacement_tables_map_only_characters_outside_gsm7_to_gsm7_text():
    for table in (GSM7_REPLACEMENTS, GSM7_TRANSLITERATIONS):
        for char, replacement in table.items():
            assert len(char) == 1
            assert not is_gsm7(char), char
            assert is_gsm7(replacement), (char, replacement)
    assert not set(GSM7_REPLACEMENTS) & set(GSM7_TRANSLITERATIONS)


def test_suggestions_name_the_characters_that_force_ucs2():
    suggestions = gsm7_suggestions("“Hola”, José y Ángel… 😀")

    assert suggestions == {"“": '"', "”": '"', "Á": "A", "…": "..."}
    assert list(suggestions) == ["“", "”", "Á", "…"]


def test_suggestions_prefer_a_look_alike_over_a_transliteration():
    assert gsm7_suggestions("\u00a0") == {"\u00a0": " "}
    assert gsm7_suggestions("\u200b") == {"\u200b": ""}


def test_gsm7_text_has_no_suggestions():
    assert gsm7_suggestions("Hola, ¿qué tal? {ñ}") == {}


# Templates


def test_a_template_is_counted_with_each_placeholder_at_its_longest():
    info = segment_info_for_template("Hi {first_name}!")

    assert info.encoding == GSM7
    assert info.units == len("Hi !") + PLACEHOLDER_MAX_LENGTHS["first_name"]


def test_placeholder_braces_do_not_count_as_extension_characters():
    info = segment_info_for_template("{name} in {city}")

    assert info.units == PLACEHOLDER_MAX_LENGTHS["name"] + len(" in ") + PLACEHOLDER_MAX_LENGTHS["city"]


def test_a_placeholder_can_push_a_template_into_another_segment():
    room = 160 - PLACEHOLDER_MAX_LENGTHS["first_name"]

    assert segment_info_for_template("a" * room + "{first_name}").segments == 1
    assert segment_info_for_template("a" * (room + 1) + "{first_name}").segments == 2


def test_a_ucs2_template_is_counted_in_ucs2():
    info = segment_info_for_template("Hola {first_name}, ¿cómo estás?")

    assert info.encoding == UCS2
    assert info.units == len("Hola , ¿cómo estás?") + PLACEHOLDER_MAX_LENGTHS["first_name"]
    assert info.non_gsm_characters == ("ó", "á")


def test_unknown_placeholders_are_counted_as_written():
    info = segment_info_for_template("{foo}")

    assert info.units == 2 + 3 + 2  # "{" and "}" are extension characters


def test_render_template_substitutes_known_placeholders():
    body = "Hola {first_name}! {name} de {city}, {first_name}."

    rendered = render_template(body, values={"first_name": "Ana", "name": "Ana Pérez", "city": "Puebla"})

    assert rendered == "Hola Ana! Ana Pérez de Puebla, Ana."


def test_render_template_leaves_a_missing_value_empty():
    assert render_template("Hola {first_name}!", values={}) == "Hola !"


def test_render_template_leaves_unknown_placeholders_and_stray_braces_alone():
    values = {"first_name": "Ana", "foo": "bar"}

    assert render_template("{foo} { first_name } {FIRST_NAME} {} {", values=values) == (
        "{foo} { first_name } {FIRST_NAME} {} {"
    )
    assert render_template("{first_name", values=values) == "{first_name"
    assert render_template("{{first_name}}", values=values) == "{Ana}"


def test_render_template_does_not_expand_placeholders_inside_values():
    assert render_template("{first_name}", values={"first_name": "{city}", "city": "Puebla"}) == "{city}"


# Properties


@given(message_text)
def test_the_parts_join_back_into_the_message(text):
    assert "".join(split_segments(text)) == text


@given(message_text)
def test_the_segment_count_is_the_number_of_parts(text):
    assert segment_info(text).segments == len(split_segments(text))


@given(message_text)
def test_the_parts_add_up_to_the_units_and_each_fits_its_segment(text):
    info = segment_info(text)
    parts = split_segments(text)

    assert sum(units_of(part, info.encoding) for part in parts) == info.units
    assert all(0 < units_of(part, info.encoding) <= info.per_segment for part in parts)
    if parts:
        assert info.remaining == info.per_segment - units_of(parts[-1], info.encoding)


@given(message_text)
def test_a_new_segment_starts_only_when_the_next_character_does_not_fit(text):
    info = segment_info(text)
    parts = split_segments(text)

    for part, following in pairwise(parts):
        assert units_of(part, info.encoding) + units_of(following[0], info.encoding) > info.per_segment


@given(message_text)
def test_splitting_wastes_at_most_one_unit_per_segment(text):
    info = segment_info(text)

    if info.segments > 1:
        assert math.ceil(info.units / info.per_segment) <= info.segments
        assert info.segments <= math.ceil(info.units / (info.per_segment - 1))


@given(basic_text)
def test_basic_gsm7_text_costs_exactly_its_length_over_153(text):
    info = segment_info(text)

    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert (info.encoding, info.units, info.segments) == (GSM7, len(text), expected)


@given(message_text)
def test_the_encoding_is_ucs2_exactly_when_a_character_is_outside_gsm7(text):
    info = segment_info(text)
    outside = [char for char in text if char not in GSM7_BASIC_CHARACTERS | GSM7_EXTENSION_CHARACTERS]

    assert (info.encoding == GSM7) == is_gsm7(text) == (not outside)
    assert info.non_gsm_characters == tuple(dict.fromkeys(outside))


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_REPLACEMENTS) + BASIC + EXTENSION)))
def test_text_whose_every_character_has_a_look_alike_becomes_gsm7(text):
    assert is_gsm7(to_gsm7(text))


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_REPLACEMENTS) + sorted(GSM7_TRANSLITERATIONS) + BASIC)))
def test_text_whose_every_character_has_a_replacement_becomes_gsm7_when_transliterating(text):
    assert is_gsm7(to_gsm7(text, transliterate=True))
    assert set(gsm7_suggestions(text)) == set(segment_info(text).non_gsm_characters)


@given(gsm7_text)
def test_to_gsm7_leaves_gsm7_text_unchanged(text):
    assert to_gsm7(text, transliterate=True) == text


template_body = st.lists(
    st.one_of(
        st.sampled_from(["{first_name}", "{name}", "{city}", "{", "}", "{foo}", " "]),
        st.text(alphabet=st.sampled_from(BASIC + EXTENSION), max_size=60),
        st.sampled_from(["á", EMOJI]),
    ),
    max_size=12,
).map("".join)
member_values = st.fixed_dictionaries(
    {
        key: st.text(alphabet=st.sampled_from(BASIC), max_size=length)
        for key, length in PLACEHOLDER_MAX_LENGTHS.items()
    }
)


@given(template_body, member_values)
def test_the_template_estimate_bounds_every_member_with_gsm7_values(body, values):
    estimate = segment_info_for_template(body)
    actual = segment_info(render_template(body, values=values))

    assert actual.encoding == estimate.encoding
    assert actual.units <= estimate.units
    assert actual.segments <= estimate.segments


@given(st.text())
def test_render_template_never_raises_and_keeps_text_without_placeholders(text):
    rendered = render_template(text, values={})

    if not any("{" + key + "}" in text for key in PLACEHOLDER_MAX_LENGTHS):
        assert rendered == text
