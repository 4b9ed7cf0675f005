import itertools

import pytest

from briefing.text import chunk_spans, clean, fold, leans_on_previous, normalize, sentence_spans, split_sentences, text_key


def test_normalize_keeps_the_writer_s_forms_and_tidies_whitespace():
    raw = "North\u00a0Korean  troops\t\tarrived.\r\n\r\n\r\n\r\nＫｕｒｓｋ region  \n"
    assert normalize(raw) == "North Korean troops arrived.\n\nＫｕｒｓｋ region"
    assert fold("Ｋｕｒｓｋ （EPS） ﾌﾚｯｼｭ") == "kursk (eps) フレッシュ"  # what comparisons see
    assert text_key("Ｋｕｒｓｋ region") == text_key("Kursk Region")


def test_clean_drops_photo_credits_and_continue_reading():
    raw = (
        "Photo Credit: Getty Images\n"
        "Image: Reuters / sample\n"
        "Troops were seen near Kursk.\n"
        "Continue reading...\n"
        "Read more: other stories\n"
        "Advertisement\n"
        "Officials confirmed the report."
    )
    assert clean(raw) == "Troops were seen near Kursk.\nOfficials confirmed the report."


def test_clean_keeps_sentences_that_merely_mention_photos():
    text = "The photo showed soldiers at a base. Credit rating agencies were not consulted."
    assert clean(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "The U.S. said 3,000 troops moved. Seoul agreed.",
            ["The U.S. said 3,000 troops moved.", "Seoul agreed."],
        ),
        (
            "Gen. Kim Yong Bok spoke on Oct. 23. Mr. Austin replied.",
            ["Gen. Kim Yong Bok spoke on Oct. 23.", "Mr. Austin replied."],
        ),
        (
            '"They are in Kursk," he said. The figure was 10.5 percent higher!',
            ['"They are in Kursk," he said.', "The figure was 10.5 percent higher!"],
        ),
        ("Is it true? “Yes,” she said.", ["Is it true?", "“Yes,” she said."]),
        ("J. R. Smith arrived. He left.", ["J. R. Smith arrived.", "He left."]),
        ("Headline without a period\nFirst line. Second line.", ["Headline without a period", "First line.", "Second line."]),
        ("lower case after period. continues here", ["lower case after period. continues here"]),
    ],
)
def test_sentence_splitting(text, expected):
    assert split_sentences(text) == expected


def test_sentence_spans_index_the_original_text():
    text = "  One sentence here.   Another one!\n\nThird?"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["One sentence here.", "Another one!", "Third?"]


def _article(sentences: int, words_each: int = 12, paragraph_every: int = 5) -> str:
    parts = []
    for i in range(sentences):
        words = " ".join(f"w{i}x{j}" for j in range(words_each - 1))
        parts.append(f"Sentence{i} {words}.")
        parts.append("\n\n" if (i + 1) % paragraph_every == 0 else " ")
    return "".join(parts).strip()


def test_chunks_are_whole_sentences_with_exact_offsets():
    text = _article(60)
    sentence_starts = {s for s, _ in sentence_spans(text)}
    sentence_ends = {e for _, e in sentence_spans(text)}
    chunks = chunk_spans(text, target_words=160, overlap_words=30)
    assert len(chunks) > 3
    for start, end in chunks:
        assert start in sentence_starts and end in sentence_ends
        words = len(text[start:end].split())
        assert 100 <= words <= 250, words


def test_chunks_cover_the_article_and_overlap_by_whole_sentences():
    text = _article(60)
    chunks = chunk_spans(text, target_words=160, overlap_words=30)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(text)
    for (_s1, e1), (s2, _e2) in itertools.pairwise(chunks):
        assert s2 < e1, "consecutive chunks share trailing sentences"
        overlap = text[s2:e1]
        assert 0 < len(overlap.split()) <= 30
        assert overlap.strip().endswith(".")


def test_no_overlap_when_disabled():
    text = _article(40)
    chunks = chunk_spans(text, target_words=160, overlap_words=0)
    for (_, e1), (s2, _) in itertools.pairwise(chunks):
        assert s2 >= e1


def test_short_article_is_one_chunk():
    text = "Only one sentence in this feed item."
    assert chunk_spans(text) == [(0, len(text))]


def test_small_tail_is_merged_rather_than_left_alone():
    text = _article(15, words_each=12, paragraph_every=100)  # 180 words: a 160-word chunk would leave a 20-word tail
    assert chunk_spans(text, target_words=160, overlap_words=0) == [(0, len(text))]


def test_overlong_sentence_is_cut_at_spaces():
    text = " ".join(f"word{i}" for i in range(1000)) + "."
    chunks = chunk_spans(text, target_words=160, overlap_words=0)
    assert all(len(text[s:e].split()) <= 240 for s, e in chunks)
    assert " ".join(text[s:e] for s, e in chunks) == text


@pytest.mark.parametrize("sentence", [
    "The deal comes amid reports that thousands of troops were sent.",  # follows something said before
    "The firm used two neighbouring states to ship the goods.",         # "the" + a noun named before
    "Her spokesman's comments come days after the vote.",
    "Wipe him off the map.",                                             # an object pronoun, no antecedent
    "The sanctions also target suppliers of machine tools.",             # "also" continues
    "The program lets the agency record a phone's screen.",              # a definite description
    "The minister called the move a turning point.",                     # a referring noun within the first words
])
def test_sentences_that_lean_on_the_one_before(sentence):
    assert leans_on_previous(sentence)


@pytest.mark.parametrize("sentence", [
    "The Kremlin said it would respond.",           # a name, and "it" names its antecedent
    "The attack on the city killed 12 people.",     # specified in the sentence itself
    "The war in the east goes on.",
    "This week, the ministry said talks would resume.",
    "Three ships were sanctioned on Monday.",
])
def test_sentences_that_stand_alone(sentence):
    assert not leans_on_previous(sentence)


def test_notices_closing_a_text_and_credit_and_subscribe_lines_are_dropped():
    text = ("Harbor officials said the quay would reopen in June.\nChip Lindqvist/Getty Images\nSubscribe to Harbor Weekly\n"
            "MP Photo/Uncredited\nThe board meets again on Friday, a spokeswoman said. © 2016 Meridian Press (sample). "
            "All rights reserved. This material may not be published, broadcast, rewritten or redistributed.")
    assert clean(text) == ("Harbor officials said the quay would reopen in June.\n"
                           "The board meets again on Friday, a spokeswoman said.")
