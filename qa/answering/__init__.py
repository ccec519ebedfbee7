"""From a question and its passages to a checked answer: rewrite (follow-ups, translation),
gate (is the question about these documents at all), fields (answers read from a document's own
record), prompt (passages and windows put before the model), answer.py (the Answerer that runs
these, calls a generator and hands the result to verify/), naive (the plain loop eval compares
with), suggest (example questions for the page).
"""
