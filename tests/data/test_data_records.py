"""Records: TRL's schema, validation messages, kind inference and the maybe_* converters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from alignlab.data import (
    Battle,
    InstructionFollowing,
    LanguageModeling,
    LikertScale,
    MultipleChoice,
    Preference,
    PromptCompletion,
    QuestionnaireItem,
    Ranking,
    Rating,
    SafetyPrompt,
    UnpairedPreference,
    battle_to_preference,
    convert_record,
    describe_error,
    infer_kind,
    maybe_conversational,
    maybe_extract_prompt,
    ranking_to_pairs,
    rating_to_pairs,
    record_class,
    record_kinds,
    unpair,
)
from alignlab.data._convert import common_prefix_length, split_shared_prefix
from alignlab.errors import DataError

USER = {"role": "user", "content": "What colour is the sky?"}
BLUE = {"role": "assistant", "content": "Blue."}
GREEN = {"role": "assistant", "content": "Green."}


def problem(cls, row):
    with pytest.raises(ValidationError) as info:
        cls.model_validate(row)
    return describe_error(info.value, cls).message


def test_every_kind_is_registered_with_documented_fields():
    kinds = record_kinds()
    assert {"language_modeling", "prompt_only", "prompt_completion", "preference", "unpaired_preference", "ranking",
            "rating", "multiple_choice", "instruction_following", "questionnaire_item", "dilemma", "moral_scenario",
            "safety_prompt", "battle", "multi_turn"} <= set(kinds)
    for kind, cls in kinds.items():
        assert record_class(kind) is cls
        for name, field in cls.model_fields.items():
            assert field.description, f"{kind}.{name} has no docstring"
    with pytest.raises(DataError, match="unknown record kind"):
        record_class("nope")


def test_preference_serialises_to_exactly_trl_columns():
    row = Preference(prompt="Q", chosen=" A", rejected=" B").to_row()
    assert row == {"prompt": "Q", "chosen": " A", "rejected": " B"}
    conv = Preference.model_validate({"prompt": [USER], "chosen": [BLUE], "rejected": [GREEN]}).to_row()
    assert conv == {"prompt": [USER], "chosen": [BLUE], "rejected": [GREEN]}


@pytest.mark.parametrize(
    ("row", "kind"),
    [
        ({"text": "x"}, "language_modeling"),
        ({"messages": [USER]}, "language_modeling"),
        ({"prompt": "x"}, "prompt_only"),
        ({"prompt": "x", "completion": "y"}, "prompt_completion"),
        ({"chosen": "a", "rejected": "b"}, "preference"),
        ({"prompt": "p", "chosen": "a", "rejected": "b", "score_chosen": 1}, "preference"),
        ({"prompt": "x", "completion": "y", "label": True}, "unpaired_preference"),
        ({"prompt": "x", "completions": ["a"], "ranks": [1]}, "ranking"),
        ({"prompt": "x", "completions": ["a"], "scores": [1.0]}, "rating"),
        ({"prompt": "x", "label": "safe"}, "safety_prompt"),
        ({"question": "q", "choices": ["a", "b"]}, "multiple_choice"),
        ({"key": 1, "prompt": "p", "instruction_id_list": [], "kwargs": []}, "instruction_following"),
        ({"model_a": "a", "model_b": "b", "winner": "tie"}, "battle"),
        ({"turns": ["hi"]}, "multi_turn"),
        ({"unrelated": 1}, None),
    ],
)
def test_infer_kind_from_columns(row, kind):
    assert infer_kind(row) == kind


def test_validation_messages_name_field_and_expectation():
    assert problem(Preference, {"prompt": "q", "chosen": "a"}) == (
        "field 'rejected': missing (expected a string or a list of messages)")
    assert problem(Preference, {"chosen": 5, "rejected": "b"}) == (
        "field 'chosen': expected a string or a list of messages, got an integer (5)")
    assert "field 'chosen[0].role'" in problem(Preference, {"chosen": [{"role": "robot", "content": "x"}],
                                                             "rejected": [BLUE]})
    assert "all strings or all message lists" in problem(Preference, {"prompt": "q", "chosen": [BLUE],
                                                                      "rejected": "b"})
    assert "field 'label'" in problem(SafetyPrompt, {"prompt": "x", "label": "maybe"})
    assert "one rank per completion" in problem(Ranking, {"prompt": "p", "completions": ["a", "b"], "ranks": [1]})
    assert "indices in 0..1" in problem(MultipleChoice, {"question": "q", "choices": ["a", "b"], "answer": 2})
    assert "one kwargs dict per instruction id" in problem(
        InstructionFollowing, {"key": 1, "prompt": "p", "instruction_id_list": ["a"], "kwargs": []})
    assert "exactly one of 'text' or 'messages'" in problem(LanguageModeling, {})


def test_string_prompt_with_conversations_is_implicit_as_in_trl():
    # ultrafeedback_binarized's shape: TRL's maybe_extract_prompt ignores such a prompt; so do we.
    pref = Preference.model_validate({"prompt": "What colour is the sky?", "chosen": [USER, BLUE],
                                      "rejected": [USER, GREEN]})
    assert pref.prompt is None
    assert maybe_extract_prompt(pref).to_row() == {"prompt": [USER], "chosen": [BLUE], "rejected": [GREEN]}


def test_maybe_extract_prompt_strings_keep_text_exact():
    chosen = "\n\nHuman: Hi\n\nAssistant: I'm glad to help."
    rejected = "\n\nHuman: Hi\n\nAssistant: I'm not sure."
    pref = maybe_extract_prompt(Preference(chosen=chosen, rejected=rejected))
    assert pref.prompt == "\n\nHuman: Hi\n\nAssistant:"
    assert pref.prompt + pref.chosen == chosen and pref.prompt + pref.rejected == rejected
    explicit = Preference(prompt="p", chosen="a", rejected="b")
    assert maybe_extract_prompt(explicit) is explicit  # correct data is left alone
    # Without a marker the split falls on a word boundary, never inside a word.
    i = split_shared_prefix("Paris is big", "Paris is small", markers=())
    assert "Paris is big"[:i] == "Paris is"
    with pytest.raises(ValueError, match="share nothing"):
        maybe_extract_prompt(Preference(chosen="abc", rejected="xyz"))


def test_common_prefix_length():
    assert common_prefix_length("abcdef", "abcxyz") == 3
    assert common_prefix_length("abc", "abc") == 3
    assert common_prefix_length("", "abc") == 0
    assert common_prefix_length("ab", "abc") == 2


def test_ranking_and_rating_to_pairs():
    ranking = Ranking(prompt="p", completions=["a", "b", "c"], ranks=[2, 1, 2])
    pairs = {(p.chosen, p.rejected) for p in ranking_to_pairs(ranking)}
    assert pairs == {("b", "a"), ("b", "c")}  # a and c tie: no pair
    rating = Rating(prompt="p", completions=["a", "b", "c"], scores=[1.0, 4.5, 3.0],
                    meta={"models": ["m1", "m2", "m3"]})
    all_pairs = rating_to_pairs(rating)
    assert [(p.chosen, p.rejected, p.margin) for p in all_pairs] == [("b", "a", 3.5), ("b", "c", 1.5),
                                                                     ("c", "a", 2.0)]
    assert all_pairs[0].meta == {"chosen_model": "m2", "rejected_model": "m1"}
    assert [(p.chosen, p.rejected) for p in rating_to_pairs(rating, "best_vs_worst")] == [("b", "a")]
    assert len(rating_to_pairs(rating, "best_vs_rest")) == 2
    assert rating_to_pairs(rating, min_margin=2.0)[0].margin == 3.5


def test_unpair_battle_and_conversational():
    pref = Preference(prompt="p", chosen="a", rejected="b")
    assert [u.to_row() for u in unpair(pref)] == [
        {"prompt": "p", "completion": "a", "label": True}, {"prompt": "p", "completion": "b", "label": False}]
    battle = Battle(model_a="x", model_b="y", winner="model_b", conversation_a=[USER, GREEN],
                    conversation_b=[USER, BLUE])
    pair = battle_to_preference(battle)
    assert pair is not None and pair.to_row()["chosen"] == [BLUE] and pair.meta["chosen_model"] == "y"
    assert battle_to_preference(battle.model_copy(update={"winner": "tie"})) is None
    chat = maybe_conversational(PromptCompletion(prompt="Q", completion="A")).to_row()
    assert chat == {"prompt": [{"role": "user", "content": "Q"}],
                    "completion": [{"role": "assistant", "content": "A"}]}
    assert maybe_conversational(UnpairedPreference(prompt=[USER], completion=[BLUE], label=True)).prompt[0].role


def test_convert_record_routes_and_refuses():
    lm = convert_record(PromptCompletion(prompt="Q ", completion="A"), "language_modeling")
    assert lm[0].to_row() == {"text": "Q A"}
    pc = convert_record(LanguageModeling(messages=[USER, BLUE]), "prompt_completion")
    assert pc[0].to_row() == {"prompt": [USER], "completion": [BLUE]}
    assert convert_record(Preference(prompt="p", chosen="a", rejected="b"), "prompt_only")[0].to_row() == {
        "prompt": "p"}
    with pytest.raises(DataError, match="cannot convert safety_prompt records to preference"):
        convert_record(SafetyPrompt(prompt="x", label="safe"), "preference")


def test_questionnaire_item_keys_and_scale():
    item = QuestionnaireItem(id="schwartz.benevolence.1", value="benevolence", reverse=True,
                             text="I rarely go out of my way for friends.",
                             scale=LikertScale(labels=["disagree", "neutral", "agree"]))
    assert item.to_row()["reverse"] is True and item.scale.start == 1
    # Older rows name the fields construct/keyed; they read into value/reverse and write back under those names.
    old = QuestionnaireItem.model_validate({"id": "b1", "construct": "benevolence", "keyed": -1, "text": "t"})
    assert (old.value, old.reverse) == ("benevolence", True) and set(old.to_row()) == {"id", "value", "text",
                                                                                         "reverse", "paraphrases"}
    assert "field 'keyed'" in problem(QuestionnaireItem, {**old.to_row(), "keyed": 0})
