"""The faces and the services they share: service.py (loading an answerer), chat.py (the
conversation service used by the page and the API), uploads.py (background indexing jobs),
audit.py (one line per change to the documents), api.py + access.py (the HTTP API and who may use
it), page_guard.py (the same rules for the page), cli.py (python -m qa). Faces import
services, never the reverse; app.py (the Gradio page) lives at the top of the repository.
"""
