"""Corpora, tokenization and batching: everything between text files and padded tensors."""
