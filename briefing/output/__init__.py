"""Output: pure rendering of briefings and daily briefs (``render``), writing them to disk
(``files``), evaluation reports (``report``) and command-line tables (``console``)."""
