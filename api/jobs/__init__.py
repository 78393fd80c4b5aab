"""Jobs: rows in the database, run by whichever worker claims them (in-process thread or Celery)."""
