"""Evidence: documents and facts → indicators → companies and accounts.

``reading`` holds the pure text readers; the modules beside it preserve documents and link what
was read to companies and accounts.
"""
