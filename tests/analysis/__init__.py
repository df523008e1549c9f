"""Tests of sphereface_lib.analysis."""
