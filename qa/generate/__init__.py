"""Generators: llm_base.py (the interface and its errors), llm_llamacpp.py (the default, a local
GGUF through llama.cpp), llm_transformers.py (torch), llm_openai.py (any OpenAI-compatible URL),
llm.py (which one a setting picks). A new backend is one llm_<name>.py and one line in llm.py.
"""
