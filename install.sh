#!/bin/sh
# Install the project on a fresh machine: ./install.sh            (the app: wheels only, nothing compiles)
#                                          ./install.sh llamacpp   (plus llama.cpp as an optional generator)
#                                          ./install.sh test       (the app and its test tools, llama.cpp included)
# Extra arguments go to pip (e.g. ./install.sh test -q).
#
# llama-cpp-python ships as source only and compiles during pip install (~4-8 min on 2 cores).
# x86-64 builds use portable flags: AVX2/FMA/F16C, no AVX-512 and no AMX, because a native build
# used AMX instructions and crashed on multi-token prompts (see docs/generators.md).
# A CMAKE_ARGS already set in the environment wins.
set -eu
cd "$(dirname "$0")"
case "$(uname -m)" in
  x86_64|amd64)
    : "${CMAKE_ARGS:=-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
    export CMAKE_ARGS ;;
esac
target=.
case "${1:-}" in
  test|llamacpp) target=".[$1]"; shift ;;
esac
exec "${PYTHON:-python3}" -m pip install "$@" -e "$target"
