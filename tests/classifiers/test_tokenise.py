"""The office's words stay whole tokens, their dictionary parts are indexed too, and one tokeniser's
words are its own."""

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
