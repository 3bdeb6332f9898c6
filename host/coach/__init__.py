"""The live coach: the routine (its steps), the sources each step reads, the session runner
that turns samples into events, and the timed walking tests."""
