"""Ingestion: a file on disk → a Document of sections → chunks to index.

load.py picks the reader by suffix (load_docx, load_pdf, load_html, load_md; plain text in load.py)
and yields raw blocks; clean.py drops site chrome and page furniture, header.py takes the title and
公文 metadata, lines.py repairs scraping damage; sections.py builds the section tree; chunk.py cuts
sections into retrieval chunks.
A new file format goes here: a load_<format>.py and one line in load.py's table.
"""
