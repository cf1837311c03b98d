"""Reports of benchmark runs: figures from the run database, terminal tables, a self-contained HTML page."""
