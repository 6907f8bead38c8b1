"""Analysis of trained weights: statistics, dead units, compressibility, figures, similarity."""
