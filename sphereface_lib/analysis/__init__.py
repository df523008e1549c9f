"""What the book measures on trained runs: angles to the class weights (``angles``), feature
norms against confidence (``norms``), face verification on pairs (``verification``), and the
verdict on a claim of the paper from runs over seeds (``claims``)."""
