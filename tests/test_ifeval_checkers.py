"""Each IFEval checker on typical, edge (empty, unicode, markdown variants) and boundary responses."""

from __future__ import annotations

import pytest

from alignlab.evaluate.instructions.ifeval import follows, get_instruction, instructions
from alignlab.evaluate.instructions.ifeval._util import count_sentences, detect_language, split_sentences, word_tokens

EN = "The quick brown fox jumps over the lazy dog near the quiet river bank every single morning."


def ok(inst: str, response: str, **kw) -> bool:
    return follows(inst, response, kw)


def test_registry_has_the_25_types() -> None:
    ids = instructions()
    assert len(ids) == 25
    assert {i.split(":")[0] for i in ids} == {"keywords", "language", "length_constraints", "detectable_content",
                                               "detectable_format", "combination", "startend", "change_case",
                                               "punctuation"}


@pytest.mark.parametrize("inst_id", sorted(instructions()))
def test_empty_and_whitespace_responses_follow_nothing(inst_id: str) -> None:
    inst = get_instruction(inst_id)
    kw = {"keywords": ["a"], "keyword": "a", "frequency": 0, "relation": "less than", "forbidden_words": ["a"],
          "letter": "a", "let_frequency": 1, "let_relation": "less than", "language": "en", "num_sentences": 5,
          "num_paragraphs": 1, "num_words": 5, "nth_paragraph": 1, "first_word": "a", "num_placeholders": 0,
          "postscript_marker": "P.S.", "num_bullets": 0, "num_highlights": 0, "section_spliter": "Section",
          "num_sections": 0, "prompt_to_repeat": "x", "end_phrase": "x", "capital_frequency": 1,
          "capital_relation": "less than"}
    args = {k: kw[k] for k in inst.params}
    assert not follows(inst_id, "", args)
    assert not follows(inst_id, " \n\t ", args)


def test_validation_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="needs argument 'num_bullets'"):
        get_instruction("detectable_format:number_bullet_lists").validate({})
    with pytest.raises(ValueError, match="relation must be one of"):
        get_instruction("length_constraints:number_words").validate({"num_words": 3, "relation": "at most"})
    with pytest.raises(ValueError, match="takes no argument"):
        get_instruction("punctuation:no_comma").validate({"x": 1})
    with pytest.raises(ValueError, match="one character"):
        get_instruction("keywords:letter_frequency").validate({"letter": "ab", "let_frequency": 1,
                                                               "let_relation": "at least"})
    with pytest.raises(ValueError, match="unknown instruction"):
        get_instruction("keywords:nope")
    # Hugging Face's copy fills unused arguments with null: they are dropped.
    assert get_instruction("punctuation:no_comma").validate({"num_words": None}) == {}


# --- keywords
def test_existence() -> None:
    assert ok("keywords:existence", "I like APPLES and pears.", keywords=["apples", "pear"])
    assert not ok("keywords:existence", "I like apples.", keywords=["apples", "pear"])
    assert ok("keywords:existence", "Café au lait, s'il vous plaît", keywords=["café"])
    assert ok("keywords:existence", "I write C++ daily", keywords=["c++"])  # literal, not a regex


def test_frequency_counts_substrings_case_insensitively() -> None:
    kw = {"keyword": "cat", "frequency": 3, "relation": "at least"}
    assert ok("keywords:frequency", "Cat, cat and a category.", **kw)
    assert not ok("keywords:frequency", "cat cat", **kw)
    assert ok("keywords:frequency", "cat cat", keyword="cat", frequency=3, relation="less than")


def test_forbidden_words_whole_words_only() -> None:
    assert ok("keywords:forbidden_words", "The cattle grazed.", forbidden_words=["cat"])
    assert not ok("keywords:forbidden_words", "My CAT sleeps.", forbidden_words=["dog", "cat"])
    assert not ok("keywords:forbidden_words", "**cat** in bold", forbidden_words=["cat"])


def test_letter_frequency_counts_the_literal_character() -> None:
    kw = {"let_frequency": 4, "let_relation": "at least"}
    assert ok("keywords:letter_frequency", "# one\n## two\n# three", letter="#", **kw)
    assert not ok("keywords:letter_frequency", "# one # two", letter="#", **kw)
    assert ok("keywords:letter_frequency", "Wow!!! Yes! Great!!", letter="!", let_frequency=6, let_relation="at least")
    assert ok("keywords:letter_frequency", "Ääpä ä", letter="ä", **kw)  # unicode, case-folded
    assert ok("keywords:letter_frequency", "no zed here", letter="z", let_frequency=2, let_relation="less than")


# --- language and case
def test_response_language_is_deterministic() -> None:
    fr = "Bonjour à tous, je suis très heureux de vous présenter notre nouvelle boulangerie du quartier."
    assert all(ok("language:response_language", fr, language="fr") for _ in range(3))
    assert not ok("language:response_language", EN, language="fr")
    assert ok("language:response_language", "12345 !!! ???", language="de")  # undetectable counts as followed
    assert detect_language(EN) == "en"


def test_english_capital_and_lowercase() -> None:
    assert ok("change_case:english_capital", EN.upper())
    assert not ok("change_case:english_capital", EN)
    assert ok("change_case:english_lowercase", EN.lower())
    assert not ok("change_case:english_lowercase", "the quick brown fox. Then")
    assert not ok("change_case:english_lowercase", "le petit chat dort sur le canapé de la maison tous les jours")
    # "**" markdown is not a cased character, so it does not break the rule.
    assert ok("change_case:english_lowercase", "**" + EN.lower() + "**")


def test_capital_word_frequency_uses_nltk_tokens() -> None:
    text = "This is VERY important. FINE-TUNED models are GREAT, I think."
    assert word_tokens(text).count("FINE-TUNED") == 1
    kw = {"capital_frequency": 4, "capital_relation": "at least"}
    assert ok("change_case:capital_word_frequency", text, **kw)  # VERY, FINE-TUNED, GREAT, I
    assert not ok("change_case:capital_word_frequency", text, capital_frequency=4, capital_relation="less than")


# --- length
def test_sentences_use_punkt() -> None:
    text = "Mr. Smith arrived at 5 p.m. on Monday. He was late! Was he? Yes."
    assert split_sentences(text)[0] == "Mr. Smith arrived at 5 p.m. on Monday."
    assert count_sentences(text) == 4
    assert ok("length_constraints:number_sentences", text, num_sentences=4, relation="at least")
    assert ok("length_constraints:number_sentences", text, num_sentences=5, relation="less than")
    assert not ok("length_constraints:number_sentences", text, num_sentences=4, relation="less than")


def test_number_words() -> None:
    assert ok("length_constraints:number_words", "one two, three-four; naïve café", num_words=6, relation="at least")
    assert not ok("length_constraints:number_words", "one two", num_words=2, relation="less than")


def test_number_paragraphs_with_markdown_divider() -> None:
    assert ok("length_constraints:number_paragraphs", "A\n***\nB\n***\nC", num_paragraphs=3)
    assert ok("length_constraints:number_paragraphs", "***\nA\n***\nB\n***", num_paragraphs=2)  # edges ignored
    assert not ok("length_constraints:number_paragraphs", "A\n***\n***\nB", num_paragraphs=2)  # empty middle
    assert not ok("length_constraints:number_paragraphs", "A\n\nB", num_paragraphs=2)  # blank lines do not count


def test_nth_paragraph_first_word() -> None:
    text = "Intro here.\n\n\"Next, we go.\"\n\nEnd."
    assert ok("length_constraints:nth_paragraph_first_word", text, num_paragraphs=3, nth_paragraph=2,
              first_word="next")
    assert not ok("length_constraints:nth_paragraph_first_word", text, num_paragraphs=2, nth_paragraph=2,
                  first_word="next")
    assert not ok("length_constraints:nth_paragraph_first_word", text, num_paragraphs=3, nth_paragraph=1,
                  first_word="next")


# --- content and format
def test_placeholders_and_postscript() -> None:
    assert ok("detectable_content:number_placeholders", "Dear [name], at [address] on [date]", num_placeholders=3)
    assert not ok("detectable_content:number_placeholders", "Dear [name]", num_placeholders=2)
    assert ok("detectable_content:postscript", "Hi.\n\np. s. see you", postscript_marker="P.S.")
    assert ok("detectable_content:postscript", "Hi.\nP.P.S. more", postscript_marker="P.P.S")
    assert not ok("detectable_content:postscript", "Hi. PS see you", postscript_marker="P.S.")


def test_bullets_markdown_variants() -> None:
    assert ok("detectable_format:number_bullet_lists", "* a\n* b\n- c", num_bullets=3)
    assert ok("detectable_format:number_bullet_lists", "  * nested\n**bold** line\n1. numbered", num_bullets=1)
    assert ok("detectable_format:number_bullet_lists", "* a\n---\n* b", num_bullets=3)  # a rule counts, as upstream
    assert not ok("detectable_format:number_bullet_lists", "• a\n• b", num_bullets=2)  # unicode bullets do not


def test_highlights_single_and_double() -> None:
    assert ok("detectable_format:number_highlighted_sections", "*one* and **two**", num_highlights=2)
    assert not ok("detectable_format:number_highlighted_sections", "** ** and * *", num_highlights=1)
    assert not ok("detectable_format:number_highlighted_sections", "*across\nlines*", num_highlights=1)


def test_sections_json_title_constrained() -> None:
    assert ok("detectable_format:multiple_sections", "Section 1\nA\nSection 2\nB", section_spliter="Section",
              num_sections=2)
    assert not ok("detectable_format:multiple_sections", "SECTION 1 A", section_spliter="Section", num_sections=1)
    assert ok("detectable_format:json_format", '```json\n{"a": [1, "é"]}\n```')
    assert ok("detectable_format:json_format", "[1, 2]")
    assert not ok("detectable_format:json_format", "Here it is: {\"a\": 1}")
    assert ok("detectable_format:title", "<<Poème de joie>>\ntext")
    assert not ok("detectable_format:title", "<< >> and <<broken\ntitle>>")
    assert ok("detectable_format:constrained_response", "  My answer is maybe. ")
    assert not ok("detectable_format:constrained_response", "my answer is yes")


# --- combination, start/end, punctuation
def test_two_responses() -> None:
    assert ok("combination:two_responses", "First.\n******\nSecond.")
    assert ok("combination:two_responses", "******\nFirst\n******\nSecond\n******")
    assert not ok("combination:two_responses", "Same\n******\nSame")
    assert not ok("combination:two_responses", "A\n******\n\n******\nB")


def test_repeat_prompt_and_end_checker() -> None:
    req = "Write a poem about tea."
    assert ok("combination:repeat_prompt", "  write a poem about tea.\nTea...", prompt_to_repeat=req)
    assert not ok("combination:repeat_prompt", "Sure! Write a poem about tea.", prompt_to_repeat=req)
    assert ok("startend:end_checker", '"All done. Any other questions?"', end_phrase="any other questions?")
    assert not ok("startend:end_checker", "Any other questions? Bye", end_phrase="Any other questions?")


def test_quotation_and_no_comma() -> None:
    assert ok("startend:quotation", ' "hello" ')
    assert not ok("startend:quotation", "“hello”")  # curly quotes do not count
    assert not ok("startend:quotation", '"')
    assert ok("punctuation:no_comma", "No commas here; none at all — 你好，世界")  # full-width comma is not ","
    assert not ok("punctuation:no_comma", "one, two")
