"""Evaluation: run.py (python -m qa.eval: question sets through the pipeline and the naive loop),
answer_eval.py (is an answer right, is its citation right), metrics.py, report.py.
"""
