"""The WSGI app as a server would run it, for tests that go through the whole stack."""

import pytest
from django.core import signals
from django.db import close_old_connections

from config.wsgi import application


@pytest.fixture
def wsgi_app(db):
    """The project's WSGI application, sharing the test's database connection and transaction.

    A real request closes the connection when it finishes; Django's test client suspends that
    for its requests, and so does this fixture, or the test's transaction would be lost.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
