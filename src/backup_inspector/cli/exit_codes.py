"""One exit code per failure class (issue 2's CLI contract)."""

OK = 0
PROBLEMS = 1  # the backup has problems, or the operation failed because of its content
USAGE = 2  # usage error, or an input file that cannot be opened
INTERRUPTED = 130  # Ctrl-C
