"""seq2seq: measure how encoder–decoder models lose context on long sentences, and what attention gives back."""

__version__ = "0.1.0"
