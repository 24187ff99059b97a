"""Human judgments (ratings, pairwise preferences) and how well automated scorers agree with them."""
