"""Documents produced from a review: the JSON contract and the French report."""
