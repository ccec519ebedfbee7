from qa.ingest.chunk import chunk_document, split_text


def test_chunks_respect_sections_and_size(seed_docs):
    for doc in seed_docs.values():
        paras = {p.id: p for p in doc.paragraphs}
        for c in chunk_document(doc, 300):
            assert len(c.text) <= 300
            assert {paras[i].section for i in c.para_ids} == {c.section}  # never crosses a section


def test_every_paragraph_is_covered(seed_docs):
    for doc in seed_docs.values():
        chunks = chunk_document(doc, 300)
        for p in doc.paragraphs:
            pieces = [c.text for c in chunks if p.id in c.para_ids]
            assert pieces, p.id
            joined = "".join(pieces)
            assert all(s in joined for s in p.text.split("。") if s), p.id


def test_long_paragraph_split_at_sentence_ends(seed_docs):
    doc = seed_docs["000_2fea3bba8e0420ec.txt"]
    pieces = [c for c in chunk_document(doc, 300) if c.para_ids == ("000_2fea3bba8e0420ec.txt#6",)]
    assert len(pieces) == 3
    assert all(c.text[-1] in "。！？；" for c in pieces)
    assert [c.id for c in pieces][:2] == ["000_2fea3bba8e0420ec.txt#6.0", "000_2fea3bba8e0420ec.txt#6.1"]


def test_tiny_paragraph_merged_forward(seed_docs):
    first = chunk_document(seed_docs["001_123d84c7bbc14b5a.txt"], 300)[1]
    assert first.para_ids == ("001_123d84c7bbc14b5a.txt#1", "001_123d84c7bbc14b5a.txt#2")
    assert first.text.startswith("同志们:\n这次会议")


def test_split_text_keeps_punctuation():
    text = "第一句很长" * 10 + "。" + "第二句" * 30 + "！" + "第三句。"
    parts = split_text(text, 60)
    assert all(len(p) <= 60 for p in parts)
    assert "".join(parts).replace("第三句。", "").endswith("！") or parts[-1].endswith("。")


def test_embedded_text_fits_the_encoder(seed_docs, encoder):
    from qa.retrieval.index import embed_views

    longest = max(
        (v for d in seed_docs.values() for c in chunk_document(d, 300) for v in embed_views(c)),
        key=encoder.count_tokens,
    )
    assert encoder.count_tokens(longest) <= encoder.max_tokens
