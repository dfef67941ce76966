from __future__ import annotations

from heprag.index.keyword import KeywordIndex, tokenize


def test_hep_tokens_survive_tokenization() -> None:
    tokens = tokenize("H→μμ at √s = 13 TeV with 139 fb⁻¹, p_T > 27 GeV, ttH, arXiv:2007.07830v2")
    for expected in ["h→μμ", "13", "tev", "139", "fb-1", "p_t", "27", "tth", "2007.07830v2"]:
        assert expected in tokens


def test_stopwords_dropped_and_words_stemmed() -> None:
    assert tokenize("The observed significances of the decays") == ["observ", "signific", "decay"]


def test_bm25_ranks_the_matching_passage_first_and_respects_filters() -> None:
    texts = [
        "The Higgs boson decay to two muons, H→μμ, has a significance of 2.0σ.",
        "Top quark pair production in association with a Higgs boson (ttH).",
        "Calorimeter calibration with test-beam electrons.",
    ]
    index = KeywordIndex.build(texts, [10, 20, 30])
    ids, scores = index.search("H→μμ significance", k=3)
    assert ids[0] == 10 and scores[0] > 0
    ids, _ = index.search("H→μμ significance", k=3, allowed={20, 30})
    assert 10 not in ids


def test_saved_index_answers_like_the_original(tmp_path) -> None:  # type: ignore[no-untyped-def]
    index = KeywordIndex.build(["muon spectrometer alignment", "electron identification"], [1, 2])
    index.save(tmp_path / "bm25")
    loaded = KeywordIndex.load(tmp_path / "bm25")
    assert list(loaded.search("muon alignment", 2)[0]) == list(index.search("muon alignment", 2)[0]) == [1]
