"""Faces: enrolment encodings, roster matching, liveness and replay checks (POLICY A3, A4, B4, B6)."""
