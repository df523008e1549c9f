"""Tests of the built book: the HTML as a reader's browser shows it, and rerunning chapters."""
