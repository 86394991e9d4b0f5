"""AccountEdge: the file-delivery contract (it has no API, so the API contract does not apply)."""
from tests.connectors.filecontract import FileContract


class TestAccountEdgeFiles(FileContract):
    platform = "accountedge"
