"""``ems demo``: a simulated community, its measurement history, the real acquisition jobs and
one planning round, in a local folder (see :mod:`elfe_ems.demo.run`)."""
