import pytest
from tests.helpers.synthetic_testdata import make_store


@pytest.fixture(scope="module")
def store(request, tmp_path_factory):
    """A synthetic store shared by a test module, of the module's ``STORE_ROWS`` (1,024)."""
    path = tmp_path_factory.mktemp("stores") / "train"
    make_store(path, n=getattr(request.module, "STORE_ROWS", 1024))
    return path
