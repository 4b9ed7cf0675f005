"""Answer: retrieve evidence, generate a draft from it, verify every sentence against it (with the
support judges), composed per kind of request in ``compose``."""
