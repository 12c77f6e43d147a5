"""The chat service: retrieve sources from vector_db/, answer with the local model, serve the UI."""
