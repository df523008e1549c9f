"""Training: a configuration (``config``) in, a run (``RunResult``) out, cached by configuration
and code (``cache``). The loop is ``loop.py``; see the README's "Where things are"."""
