"""Generators: messages in, streamed text out. llm_base.py (the interface and its errors),
llm_openvino.py (the default: the packaged GGUF turned once into OpenVINO IR), llm_llamacpp.py (the
GGUF as is, through llama.cpp, an optional extra), llm_transformers.py (torch), llm_openai.py (any
OpenAI-compatible URL), llm.py (which one a setting picks; packaged weights joined and checked),
vocab.py (the tokenizer without weights), checksum.py. A new backend is one llm_<name>.py and its
branch in llm.load_generator.
"""
