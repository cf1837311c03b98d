"""The suites' builders: the deterministic generator of the task files and their validation. They sit above
tasks/, calibration/ and knowledge/ (they read all three); nothing below imports them."""
