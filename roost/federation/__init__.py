"""The ActivityPub face: JSON-LD shapes (documents.py) and routes (routes.py)
over the same domain queries and actions as the client API and the web pages."""
