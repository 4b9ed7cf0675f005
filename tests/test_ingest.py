"""Ingest into a real Chroma store (embedded and server) with a fake embedder (see conftest)."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from briefing.errors import EmbedderMismatchError
from briefing.ingest.run import ingest
from briefing.pipeline import Components
from briefing.settings import Settings
from briefing.store.store import Store
from tests.conftest import FIXTURES, HashingEmbedder

STORY = (
    "Ukraine's defence minister said on Tuesday that North Korean soldiers had taken part in small clashes "
    "with Ukrainian units in the Kursk region. He did not give casualty figures. Officials in Seoul said "
    "they were checking the report. The Pentagon said about 10,000 North Korean troops were now in the "
    "region, up from an earlier estimate of up to 3,000 in late October. Analysts said the deployment "
    "marked the first time Pyongyang had sent ground forces to a European war."
)


def write_md(folder: Path, name: str, title: str, publisher: str, body: str, published="2024-11-05T10:00:00Z") -> Path:
    path = folder / name
    path.write_text(
        f'---\ntitle: "{title}"\npublisher: "{publisher}"\nurl: "https://{name}.example/"\n'
        f'published: "{published}"\n---\n\n{body}\n'
    )
    return path


def vectors(store: Store) -> dict[str, str]:
    got = store.collection.get(include=["documents"])
    return dict(zip(got["ids"], got["documents"]))


def test_ingests_every_format_with_exact_chunk_offsets(store_mode, fake_embedder):
    settings = Settings()
    report = ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    assert report.skipped == []
    assert (report.files, report.articles, report.duplicates) == (7, 11, 0)
    assert report.embedded == report.chunks > 0
    with Store(settings, fake_embedder) as store:
        stored = store.catalog.chunks_with_articles(store.catalog.chunk_ids())
        assert len(stored) == report.chunks
        for chunk, article in stored:
            assert article.text[chunk.span] == chunk.text
            assert re.fullmatch(r"[0-9a-f]{8}-\d+", chunk.id)
        assert vectors(store) == {chunk.id: chunk.text for chunk, _ in stored}
        meta = store.collection.get(ids=[stored[0][0].id], include=["metadatas"])["metadatas"][0]
        assert meta["article_id"] == stored[0][1].id and meta["title"] == stored[0][1].title


def test_chunk_ids_are_stable_across_runs_and_homes(tmp_path, monkeypatch, fake_embedder):
    ids = []
    for home in ("first", "second"):
        monkeypatch.setenv("BRIEFING_HOME", str(tmp_path / home))
        settings = Settings()
        ingest([FIXTURES / "formats"], Components(settings, embedder=HashingEmbedder()))
        with Store(settings, fake_embedder) as store:
            ids.append(sorted(store.catalog.chunk_ids()))
    assert ids[0] == ids[1] and len(ids[0]) >= 11


def test_exact_and_near_duplicates_are_stored_once_with_alternate_sources(tmp_path, store_mode, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_md(folder, "a-original.md", "Kyiv reports clashes", "First Post (sample)", STORY)
    write_md(folder, "b-copy.md", "Kyiv Reports Clashes", "Second Post (sample)", STORY.upper())
    write_md(folder, "c-repost.md", "Kyiv reports first clashes", "Third Post (sample)",
             "This story was first published by First Post. " + STORY.replace("Tuesday", "Wednesday"))
    write_md(folder, "d-other.md", "Frost warning", "First Post (sample)", "Forecasters expect a hard frost this weekend.")
    # The same body under another headline is not merged: body text alone never makes a duplicate.
    write_md(folder, "e-retitled.md", "Seoul checks reports of North Korean troops in Kursk", "Fourth Post (sample)", STORY)
    settings = Settings()
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert (report.articles, report.duplicates, report.exact_duplicates, report.near_duplicates) == (3, 2, 1, 1)
    with Store(settings, fake_embedder) as store:
        listed = {a.title: a for a in store.catalog.list_articles()}
        assert set(listed) == {"Kyiv reports clashes", "Frost warning", "Seoul checks reports of North Korean troops in Kursk"}
        assert listed["Kyiv reports clashes"].alternates == 2
        rows = store.catalog.db.execute("SELECT publisher, url FROM alternates ORDER BY publisher").fetchall()
        assert rows == [("Second Post (sample)", "https://b-copy.md.example/"),
                        ("Third Post (sample)", "https://c-repost.md.example/")]


def test_short_placeholder_bodies_never_merge_items(tmp_path, store_mode, fake_embedder):
    """Feed items whose bodies are all "Read more." (or any text too short to tell) stay apart,
    even under similar headlines; each is stored as its headline."""
    folder = tmp_path / "in"
    folder.mkdir()
    items = [{"id": f"g{n}", "title": title, "text": "<p>Read more.</p>", "published": f"2024-11-0{n}T10:00:00Z"}
             for n, title in enumerate(["Tram line opens", "Tram line closes", "Bakers strike"], start=1)]
    items.append({"id": "g4", "title": "Short note", "text": "Officials met on Monday.", "published": "2024-11-04T10:00:00Z"})
    items.append({"id": "g5", "title": "Short notes", "text": "Officials met on Monday.", "published": "2024-11-05T10:00:00Z"})
    (folder / "feed.json").write_text(json.dumps({"items": items}))
    report = ingest([folder], Components(Settings(), embedder=fake_embedder))
    assert (report.articles, report.duplicates) == (5, 0)
    with Store(Settings(), fake_embedder) as store:
        texts = dict(store.catalog.db.execute("SELECT title, text FROM articles"))
    assert texts["Tram line opens"] == "Tram line opens" and texts["Short notes"] == "Short notes\n\nOfficials met on Monday."


def test_reingest_of_unchanged_files_embeds_nothing(store_mode, fake_embedder):
    settings = Settings()
    first = ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    calls = len(fake_embedder.calls)
    second = ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    assert second.embedded == 0 and len(fake_embedder.calls) == calls
    assert (second.unchanged_files, second.articles, second.chunks) == (7, first.articles, first.chunks)


def test_changed_file_replaces_its_old_chunks(tmp_path, store_mode, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_md(folder, "story.md", "Kyiv reports clashes", "First Post (sample)", STORY)
    write_md(folder, "other.md", "Frost warning", "First Post (sample)", "Forecasters expect a hard frost this weekend.")
    settings = Settings()
    ingest([folder], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        old_ids = {cid for cid, text in vectors(store).items() if "Kursk" in text}
    write_md(folder, "story.md", "Kyiv reports clashes", "First Post (sample)", STORY.replace("10,000", "11,000"))
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert (report.unchanged_files, report.embedded) == (1, 1)
    with Store(settings, fake_embedder) as store:
        stored = vectors(store)
        assert not old_ids & set(stored)
        assert any("11,000" in text for text in stored.values())
        assert not any("10,000" in text for text in stored.values())
        assert set(stored) == store.catalog.chunk_ids()
        assert len(store.catalog.list_articles()) == 2
    assert path.exists()


def test_prune_removes_articles_whose_files_are_gone(tmp_path, store_mode, fake_embedder):
    folder = tmp_path / "in"
    shutil.copytree(FIXTURES / "formats", folder)
    settings = Settings()
    ingest([folder], Components(settings, embedder=fake_embedder))
    (folder / "items.jsonl").unlink()
    kept = ingest([folder], Components(settings, embedder=fake_embedder))
    assert kept.removed_files == 0
    with Store(settings, fake_embedder) as store:
        assert len(store.catalog.list_articles()) == 11
    pruned = ingest([folder], Components(settings, embedder=fake_embedder), prune=True)
    assert (pruned.removed_files, pruned.removed_articles) == (1, 3)
    with Store(settings, fake_embedder) as store:
        titles = {a.title for a in store.catalog.list_articles()}
        assert len(titles) == 8 and "Pentagon raises estimate" not in titles
        assert set(vectors(store)) == store.catalog.chunk_ids()


def test_bad_files_are_reported_and_the_rest_ingested(tmp_path, store_mode, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_md(folder, "good.md", "Kyiv reports clashes", "First Post (sample)", STORY)
    (folder / "lines.jsonl").write_text('{"title": "fine", "text": "A fine line about Kursk."}\n"just a string"\n')
    (folder / "broken.json").write_text("{not json")
    (folder / "empty.md").write_text("---\ntitle: Empty\n---\n")
    (folder / "scan.pdf").write_bytes(b"%PDF")
    settings = Settings()
    report = ingest([folder], Components(settings, embedder=fake_embedder))
    assert report.articles == 2
    assert sorted(s.message() for s in report.skipped) == sorted([
        f"{folder / 'broken.json'}: invalid JSON at line 1 (Expecting property name enclosed in double quotes)",
        f"{folder / 'empty.md'}: no text (expected one of: text, content, body, description)",
        f"{folder / 'lines.jsonl'}:2: expected a JSON object, got str",
        f"{folder / 'scan.pdf'}: unsupported format '.pdf'",
    ])


def test_keyword_index_follows_the_catalog(tmp_path, fake_embedder):
    folder = tmp_path / "in"
    folder.mkdir()
    write_md(folder, "story.md", "Kyiv reports clashes", "First Post (sample)", STORY)
    settings = Settings()
    ingest([folder], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        index = store.keyword_index()
        assert index.revision == store.catalog.revision
        assert index.search("Pentagon troops", k=3)[0][0] in store.catalog.chunk_ids()
        assert index.search("hard frost") == []
    write_md(folder, "frost.md", "Frost warning", "First Post (sample)", "Forecasters expect a hard frost this weekend.")
    ingest([folder], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        hit = store.keyword_index().search("hard frost", k=1)[0][0]
        assert "frost" in store.catalog.indexed_chunks(store.catalog.article_ids_of_file(str(folder / "frost.md")))[hit][1]


def test_opening_a_store_with_another_embedder_is_an_error(store_mode, fake_embedder):
    settings = Settings()
    ingest([FIXTURES / "formats" / "items.jsonl"], Components(settings, embedder=fake_embedder))

    class OtherEmbedder(HashingEmbedder):
        name = "fake:other-64"

    with pytest.raises(EmbedderMismatchError, match=r"built with embedder 'fake:hashing-64'.*'fake:other-64'"):
        ingest([FIXTURES / "formats" / "items.jsonl"], Components(settings, embedder=OtherEmbedder()))


def test_collection_records_embedder_name_and_dimension(store_mode, fake_embedder):
    settings = Settings()
    ingest([FIXTURES / "formats" / "items.jsonl"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        assert store.collection.metadata["embedder"] == "fake:hashing-64"
        assert store.collection.metadata["dimension"] == 64


def test_reconcile_removes_orphans_and_restores_missing_vectors(store_mode, fake_embedder):
    settings = Settings()
    ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        wanted = store.catalog.chunk_ids()
        lost = sorted(wanted)[0]
        store.collection.delete(ids=[lost])
        store.collection.upsert(ids=["deadbeef-0"], embeddings=np.ones((1, 64), dtype=np.float32) / 8,
                                documents=["orphan"], metadatas=[{"article_id": "x"}])
        store.catalog.set_meta("vectors_pending", "1")  # as left by a process killed mid-write
    ingest([FIXTURES / "formats"], Components(settings, embedder=fake_embedder))
    with Store(settings, fake_embedder) as store:
        assert set(vectors(store)) == wanted
        assert store.catalog.get_meta("vectors_pending") == "0"
        assert store.reconcile() == (0, 0)


def test_sentences_repeated_from_the_previous_chunk_are_not_embedded_again(tmp_path, store_mode):
    """What the embedder is given: the headline and each chunk without its overlap; the stored
    chunk keeps its whole text, and a reconcile re-embeds a lost chunk the same way."""

    class RecordingEmbedder(HashingEmbedder):  # fakes the model; records the texts it is given
        def __init__(self):
            super().__init__()
            self.texts: list[str] = []

        def embed(self, texts):
            self.texts += texts
            return super().embed(texts)

    body = " ".join(f"Sentence {n} says the county road {n} reopened after {n} days of repairs." for n in range(60))
    embedder = RecordingEmbedder()
    settings = Settings()
    ingest([write_md(tmp_path, "long.md", "Roads reopen", "Sample Gazette (sample)", body)], Components(settings, embedder=embedder))
    with Store(settings, embedder) as store:
        chunks = sorted((c for c, _ in store.catalog.chunks_with_articles(store.catalog.chunk_ids())), key=lambda c: c.position)
    assert len(chunks) >= 3 and all(later.overlap > 0 for later in chunks[1:]) and chunks[0].overlap == 0
    for chunk in chunks[1:]:
        repeated = chunk.text[: chunk.overlap].strip()
        assert chunks[chunk.position - 1].text.endswith(repeated)
        assert f"Roads reopen\n{chunk.text[chunk.overlap:].lstrip()}" in embedder.texts
        assert not any(text.endswith(chunk.text) for text in embedder.texts)
    with Store(settings, embedder) as store:
        store.collection.delete(ids=[chunks[1].id])
        embedder.texts = []
        assert store.reconcile() == (0, 1)
    assert embedder.texts == [f"Roads reopen\n{chunks[1].text[chunks[1].overlap:].lstrip()}"]


def test_a_store_made_under_the_onnx_embedders_earlier_name_opens_and_grows(tmp_path, store_mode):
    """Stores recorded as `local:all-MiniLM-L6-v2-onnx-int8` are read by the embedder now named
    `local:all-MiniLM-L6-v2-onnx` (fakes stand in for the model under both names)."""
    from briefing.embedding.onnx import LEGACY_ONNX_NAMES, ONNX_NAME

    class Earlier(HashingEmbedder):
        name = LEGACY_ONNX_NAMES[0]

    class Now(HashingEmbedder):
        name = ONNX_NAME

    settings = Settings()
    first = ingest([FIXTURES / "formats" / "items.jsonl"], Components(settings, embedder=Earlier()))
    path = write_md(tmp_path, "later.md", "A later story", "Sample Gazette (sample)", STORY)
    later = ingest([path], Components(settings, embedder=Now()))
    assert later.embedded == later.chunks > 0
    with Store(settings, Now()) as store:
        assert len(store.catalog.chunk_ids()) == first.chunks + later.chunks
