"""What the book measures on trained features: angles to the class weights (``angles``),
feature norms against confidence (``norms``), face verification on pairs (``verification``)."""
