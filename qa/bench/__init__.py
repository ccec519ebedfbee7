"""Benchmarks that print figures (python -m qa.bench): run.py lists the steps; ingest, scale,
upload, page (the chat page's memory) and loadtest are the steps.
"""
