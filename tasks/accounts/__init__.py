"""The account vocabulary every stage shares: the signals of one account record at a detection
point (``signals``), phone numbers and their blocks (``phones``) and the errors a record can
carry (``record_errors``). It imports no stage."""
