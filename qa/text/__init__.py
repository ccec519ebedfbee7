"""Text tools every stage shares: normalize (width, spaces, controls, the compact form quotes are
matched in), sentences (splitting, question words, what kind of answer a question wants),
figures (numbers, units, dates, times of day read as comparable values), guard (document text is
data: sentences addressed to an assistant, figures that conflict), read before the prompt and
after the answer.
"""
