"""Tests of sphereface_lib.training."""
