"""Makers of sample and test footage: a synthetic classroom, real clips, and the tampering a
dishonest institution would do to them. Nothing made here is committed; it is made on demand."""
