"""The paper's mathematics as pure functions: psi(theta), the Chebyshev cos(m theta), the lambda
annealing (``margins``) and the learning-rate schedules (``schedules``)."""
