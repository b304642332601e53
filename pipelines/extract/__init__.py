"""Pure functions that read numbers out of registry free text: eligibility thresholds, time frames, doses."""
