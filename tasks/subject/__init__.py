"""Subject requests: everything held about one person, exported as one document
(:mod:`tasks.subject.export`) or erased from every store but what is on legal hold
(:mod:`tasks.subject.erase`). :mod:`tasks.subject.find` finds the rows that name them."""
