"""Tests of sphereface_lib.common."""
