"""Metrics: measures of performance and effectiveness accumulated from records as they stream past, and objective ratings."""
