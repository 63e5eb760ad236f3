"""Prints the one-line JSON summary of each scenario after the pytest run."""

import json

import interop


def pytest_terminal_summary(terminalreporter):
    for summary in interop.SUMMARIES:
        terminalreporter.write_line(json.dumps(summary))
