"""The alert tables, declared once (filled in by ingestion)."""
ALL_TABLES: list = []
