"""The detectors the class analysis runs, in order: a module of its own, so that the protocol
(detector.py) imports no detector and no detector module goes round in a circle to reach it."""

from __future__ import annotations

from monitor.footage.black import BlackDetector
from monitor.footage.camera import CameraMovedDetector
from monitor.footage.clock import ClockDetector
from monitor.footage.detector import DetectorFactory
from monitor.footage.focus import DefocusDetector
from monitor.footage.freeze import FreezeDetector
from monitor.footage.loop import LoopDetector
from monitor.footage.splice import SpliceDetector


def registry() -> list[DetectorFactory]:
    """Every detector the class analysis runs, in order: adding one is its module and a line here."""
    return [BlackDetector.from_policy, FreezeDetector.from_policy, SpliceDetector.from_policy,
            LoopDetector.from_policy, ClockDetector.from_policy, DefocusDetector.from_policy,
            CameraMovedDetector.from_policy]
