"""What every sub-command shares: exit statuses."""

EXIT_BAD_INPUT = 2  # the user's input was refused (one line on stderr says why)
EXIT_FAILURE = 1  # anything else went wrong (or, for attack, some attacks did not reach their target)
