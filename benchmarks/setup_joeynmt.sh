#!/usr/bin/env bash
# JoeyNMT 2.3.0 in its own virtual environment (default .venv-joeynmt), for the benchmarks.
# The same CPU build of torch as ours; importlib_metadata is a dependency JoeyNMT 2.3.0 uses but does not declare;
# sentencepiece 0.2.3 has no SentencePieceProcessor.SetVocabulary, which JoeyNMT's sentencepiece tokenizer calls.
set -euo pipefail
venv="${1:-.venv-joeynmt}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet torch==2.13.0
# torch pinned again: should the first install fail, joeynmt's own torch requirement would pull a multi-GB CUDA build
"$venv/bin/pip" install --quiet joeynmt==2.3.0 torch==2.13.0 importlib_metadata sentencepiece==0.2.0
"$venv/bin/python" -c "import joeynmt, torch; print('joeynmt', joeynmt.__version__, 'torch', torch.__version__)"
