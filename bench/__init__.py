"""`make bench`: load-test the app at city scale and measure what a phone downloads.

The pieces, in the order a run uses them: settings (what to run), database
(build or reuse the bench city), fixtures (find the ids to use by SQL and
prepare visits through the services), server (gunicorn), scenarios (what
each simulated phone does, on top of client), drivers (locust, or threads),
weight (page weight), report (the table and the JSON). README.md "Benchmark"
says how to run it; docs/performance.md holds the results.
"""
