"""Tests of sphereface_lib.book (the book layer's helpers) and, marked ``book``, of the built book:
the HTML as a reader's browser shows it, and rerunning chapters."""
