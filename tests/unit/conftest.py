import pytest

from server.engine.content.loading import default_content


@pytest.fixture(scope="session")
def content():
    """The real content/ of the repository, validated."""
    return default_content()
