"""From results to answers: curves, AUBC, paired statistics, verdicts, pool properties and figures."""
