"""Verification of a generated answer against its cited passages: cite.py (each sentence must be
supported by the passage it cites; figures, dates and names must stand there), checks.py (the
names of every gate and check, each switchable with --ablate). A new verification check goes in
cite.py and gets a name in checks.py.
"""
