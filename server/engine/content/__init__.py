"""content/ read into frozen, validated values: what the engine knows of the protocol.

model.py holds the values (:class:`model.Content` and its parts), loading.py
reads and validates content/ into them (:func:`loading.load_content`), with
reading.py's strict TOML reader, settings.py's site settings and texts.py's
translations.
"""
