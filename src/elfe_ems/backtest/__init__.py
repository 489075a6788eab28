"""``ems backtest``: the closed-loop simulation of the EMS over simulated days (see
``docs/backtest.md``)."""
