"""Compare base and head: build every target x platform x strategy, measure, judge, report.

``run.run_report_doc`` does the I/O (worktrees, builds, analysis, image); ``report`` turns what
was measured into the ``sizebot/report@1`` document (pure); ``image`` measures the container image.
"""
