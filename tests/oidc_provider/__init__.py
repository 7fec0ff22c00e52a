"""A real OpenID provider for tests: django-oauth-toolkit in its own Django project.

Started on a loopback port by tests/oidc_server.py, with its own SQLite database and an RSA
signing key generated at start. Nothing of Dockyard is imported here.
"""
