"""``ems web``: a read-only dashboard of the EMS and the JSON API behind it.

The app (:func:`elfe_ems.web.app.create_app`) reads the store and the output databases, and
the scenario and plan files the rounds save; it never writes. Its pages are static HTML and
JavaScript that fetch ``/api/...`` and draw with the uPlot library the app serves itself.
"""
