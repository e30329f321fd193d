"""The library layer: code every app may use, importing nothing of the project's (phones, events, SQL)."""
