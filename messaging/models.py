"""Texts in and out of a leader's number. These tables live in each leader's schema."""
