"""Ingestion: knowledge_base/ files → typed records → embedded chunks in Chroma (vector_db/)."""
