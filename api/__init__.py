"""The service: FastAPI routes per role, authentication, the job runner (in-process or Celery).
Calls `monitor` for every decision and stores through `models`."""
