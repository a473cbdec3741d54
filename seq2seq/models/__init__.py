"""Encoders, decoders and the attention family they are built from."""
