"""Verification of a generated answer against its cited passages: cite.py (each sentence must be
supported by the passage it cites; figures, dates and names must stand there), with its helpers:
frame.py (the question's place, law and year), polarity.py (yes/no negation), dated.py (dates and their
events), respective.py and rival.py (which of several figures answers); checks.py (the
names of every gate and check, each switchable with --ablate). A new verification check goes in
cite.py and gets a name in checks.py.
"""
