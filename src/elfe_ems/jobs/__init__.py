"""The EMS jobs: the planning round (and, later, the acquisition jobs)."""
