"""The office's words stay whole tokens, their dictionary parts are indexed too, and one tokeniser's
words are its own."""

from unittest.mock import patch

from classifiers import tokenise
from classifiers.tokenise import Tokeniser

PARK = "柳屯镇化工园区"
TEXT = "柳屯镇化工园区昨夜发生泄漏，PM2.5超标！"


def test_an_office_word_is_one_token_and_its_parts_are_searchable() -> None:
    tokeniser = Tokeniser([PARK])
    words = tokeniser.words(TEXT)
    assert words[0] == PARK
    assert "pm2.5" in words  # lower-cased, punctuation dropped
    assert not {"，", "！"} & set(words)
    tokens = tokeniser.index_tokens(words)
    assert {"化工", "园区", "泄漏"} <= set(tokens)
    assert tokens.index("化工") < tokens.index(PARK)  # parts come before their word
    # A query is cut precisely, and each of its terms is among the post's tokens: the search finds it.
    assert tokeniser.query_terms("化工园区 泄漏") == ["化工", "园区", "泄漏"]
    assert set(tokeniser.query_terms("化工园区 泄漏")) <= set(tokens)


def test_words_taught_to_one_tokeniser_do_not_reach_another() -> None:
    Tokeniser([PARK])
    assert PARK not in Tokeniser().words(TEXT)


def test_the_kept_token_words_stop_growing_at_their_bound_and_still_answer() -> None:
    words = tokenise.Kept(tokenise._reads_as)
    with patch.object(tokenise, "_MAX_KEPT", 2):
        assert [words[t] for t in ("PM2.5", "，", "ΑΣ", "濮阳")] == ["pm2.5", "", "ας", "濮阳"]
    assert len(words) == 2
    assert Tokeniser().words("濮阳ΑΣ，PM2.5") == ["濮阳", "α", "σ", "pm2.5"]


def test_a_line_break_before_the_text_changes_no_word() -> None:
    # The tokenise stage cuts a post without a title as its text alone, and with one as title, a line break
    # and the text: the same words either way for an empty title.
    tokeniser = Tokeniser([PARK])
    for text in (TEXT, " 濮阳县 PM2.5", "\r\n濮阳ΑΣ，", "\u3000范县[怒]😡", "村民投诉\n\n没人管", "，"):
        assert tokeniser.words(f"\n{text}") == tokeniser.words(text)
