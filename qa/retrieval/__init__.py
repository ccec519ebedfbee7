"""Index and retrieval: chunks → sentence-transformers vectors in faiss (index.py) → the top
passages for a question (retrieve.py: dense + lexical, document frame). engine.py ties a corpus
folder, its cached index and search together; store_milvus.py is the optional Milvus store.
"""
