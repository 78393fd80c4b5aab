"""HTTP service (FastAPI) over monitor/ and models/: built in the service issue (#5)."""
