"""Reports: daily roll-ups of the touchpoint log and the queries behind the
dashboard, the funnel and the landing page report (docs/reports.md)."""
