"""Reading finished runs: sweep reports, side-by-side comparisons, reproductions and their figures."""
