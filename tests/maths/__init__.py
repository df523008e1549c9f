"""Tests of sphereface_lib.maths."""
