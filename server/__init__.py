"""Alemtrack server package.

The pure clinical engine lives in :mod:`server.engine`; the Flask application
factory arrives with the server issue.
"""
