"""Benchmarks (`make bench`): figures and ratios printed, never asserted in unit tests."""
