import numpy as np

from briefing.ingest.dedupe import DuplicateIndex, content_hash, minhash

STORY = (
    "Ukraine's defence minister said on Tuesday that North Korean soldiers had taken part in small "
    "clashes with Ukrainian units in the Kursk region. He did not give casualty figures. Officials in "
    "Seoul said they were checking the report. The Pentagon said about 10,000 North Korean troops were "
    "now in the region, up from an earlier estimate of up to 3,000 in late October."
)


def test_content_hash_ignores_case_punctuation_and_spacing():
    assert content_hash("North Korean troops, in Kursk.") == content_hash("north  korean TROOPS in kursk")
    assert content_hash("North Korean troops in Kursk") != content_hash("North Korean troops in Bryansk")


def test_minhash_estimates_similarity():
    same = minhash(STORY)
    assert np.array_equal(same, minhash(STORY))
    reposted = minhash("This story was first published by another outlet. " + STORY.replace("Tuesday", "Wednesday"))
    other = minhash("Forecasters expect the first hard frost of the season across the northern valleys this weekend.")
    assert (same == reposted).mean() >= 0.8
    assert (same == other).mean() < 0.1


def test_index_finds_exact_and_near_duplicates_but_not_other_stories():
    index = DuplicateIndex(threshold=0.8)
    index.add("story", content_hash(STORY), minhash(STORY))
    assert index.exact(content_hash(STORY.upper())) == "story"
    match = index.near(minhash(STORY.replace("small clashes", "minor clashes")))
    assert match is not None and match[0] == "story" and match[1] >= 0.8
    assert index.near(minhash("A different story about the weather in the northern valleys.")) is None


def test_removed_articles_are_no_longer_matched():
    index = DuplicateIndex(threshold=0.8)
    index.add("story", content_hash(STORY), minhash(STORY))
    index.remove({"story"})
    assert index.exact(content_hash(STORY)) is None
    assert index.near(minhash(STORY)) is None
