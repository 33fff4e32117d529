"""Built-in suites written for alignlab, each with a datasheet under ``suites/data/``."""
