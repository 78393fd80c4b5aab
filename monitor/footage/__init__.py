"""Recorded classroom training: packet timeline -> samples -> tamper detectors -> per-hour verdicts."""
