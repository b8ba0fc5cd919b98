"""Where state lives and how it is deployed: settings, database, model registry, local services."""
