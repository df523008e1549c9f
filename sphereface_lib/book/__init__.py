"""The book's presentation: each chapter's settings, the grids of runs it trains, its tables,
figures and animations, and the numbers it quotes from elsewhere (``sources``).

The top layer of the library: it may import every other sub-package, none imports it.
"""
