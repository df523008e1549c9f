"""Helpers that know nothing of the paper: checksummed files, progress bars, seeding, hardware.

The lowest layer of the library: every other sub-package may import it, it imports none.
"""
