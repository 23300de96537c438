"""Word documents: the compiled comment table (§4.1) and the results report (§4.2)."""
