from __future__ import annotations

from heprag.index.types import Block, Document
from heprag.ingest.chunking import ChunkSettings, chunk_document, citation_label, word_token_counter
from heprag.ingest.sentences import sentences


def _doc() -> Document:
    body = " ".join(
        f"Sentence number {i} describes the muon trigger efficiency in detail." for i in range(60)
    )
    return Document(
        doc_id="arXiv:2007.07830v2",
        collaboration="ATLAS",
        blocks=[
            Block(text="A search for the dimuon decay is presented.", page=1, section=["Abstract"]),
            Block(text=body, page=3, section=["4 Object definitions", "4.1 Muons"]),
            Block(
                text="Figure 2: The dimuon invariant mass spectrum.",
                page=4,
                section=["5 Results"],
                kind="caption",
            ),
        ],
    )


def test_chunks_respect_the_budget_and_keep_sentences_whole() -> None:
    chunks = chunk_document(_doc(), word_token_counter, ChunkSettings(max_tokens=60, overlap_sentences=0))
    for chunk in chunks:
        assert word_token_counter([chunk.text])[0] <= 60 + 2
        if chunk.kind == "text" and chunk.ordinal > 0:
            assert chunk.text.startswith("Sentence number") and chunk.text.endswith(".")


def test_captions_are_their_own_chunk_with_page_and_label() -> None:
    chunks = chunk_document(_doc(), word_token_counter, ChunkSettings(max_tokens=60))
    caption = [c for c in chunks if c.kind == "caption"]
    assert len(caption) == 1 and caption[0].text.startswith("Figure 2")
    assert caption[0].label == "ATLAS 2007.07830v2 §5, p. 4"


def test_tiny_abstract_merges_into_the_next_section_and_offsets_point_into_the_text() -> None:
    doc = _doc()
    full = "\n\n".join(b.text for b in doc.blocks)
    chunks = chunk_document(doc, word_token_counter, ChunkSettings(max_tokens=60, min_tokens=20))
    assert (
        chunks[0].text.startswith("A search for the dimuon decay") and "Sentence number 0" in chunks[0].text
    )
    last = chunks[-1]
    assert full[last.char_start : last.char_end] == last.text


def test_overlap_repeats_the_last_sentence() -> None:
    chunks = chunk_document(_doc(), word_token_counter, ChunkSettings(max_tokens=60, overlap_sentences=1))
    body = [c for c in chunks if c.section[-1:] == ["4.1 Muons"]]
    assert sentences(body[0].text)[-1] == sentences(body[1].text)[0]


def test_logbook_labels_read_like_a_logbook_reference() -> None:
    doc = Document(
        doc_id="elog:ISOLDE/412",
        source_type="logbook",
        extra={"logbook": "ISOLDE", "entry_id": 412, "time": "2024-05-03 14:20", "author": "J. Doe"},
    )
    assert citation_label(doc, [], None, None) == "ISOLDE elog #412, 2024-05-03 14:20, J. Doe"


def test_sentence_splitter_keeps_abbreviations_and_decimals() -> None:
    text = "The mass is 125.09 GeV (see Fig. 3 and Ref. [12]). ATLAS et al. measured it. It is 2.0σ."
    assert sentences(text) == [
        "The mass is 125.09 GeV (see Fig. 3 and Ref. [12]).",
        "ATLAS et al. measured it.",
        "It is 2.0σ.",
    ]
