"""Scoring: length buckets, bootstrap intervals and slopes, paired significance, and one split's scores."""
