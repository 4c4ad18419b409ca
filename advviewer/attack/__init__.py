"""The box-constrained L-BFGS attack of Szegedy et al. (2013)."""
