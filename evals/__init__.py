"""heprag.evals."""
