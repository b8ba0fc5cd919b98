"""Evidence: documents and facts → indicators → companies and accounts."""
