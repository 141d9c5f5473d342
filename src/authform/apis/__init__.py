"""Clients for provider APIs that more than one side of authform talks to.

A provider API read both as a user-import source and written as a target (Clerk's Backend
API) gets its client here, owned by neither: ``authform.sources`` and ``authform.providers``
both import it, and neither imports the other (``tests/test_import_direction.py``).
"""
