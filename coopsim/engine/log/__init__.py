"""The event log: one frozen record class per kind of event, the sinks records stream to, and atomic output directories.

Above the scenario language and below everything else: the simulation emits
records, the metrics and the reports read them.
"""
