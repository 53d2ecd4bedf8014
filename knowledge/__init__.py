"""Question banks, study notes and everything that loads, checks and searches them."""
