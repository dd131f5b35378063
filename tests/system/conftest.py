"""Fixtures shared by the system tests: each test module gets one real
llmoin node (see llmoin_stack.py), stopped when the module is done.

The node's directory must be traversable by the users the servers drop to
when the tests run as root (postgres, nobody), so it is not pytest's private
tmp_path. Set LLMOIN_KEEP_STATE=1 to keep it for a post-mortem."""

import os
import shutil
import tempfile

import pytest

from llmoin_stack import Stack


@pytest.fixture(scope="module")
def stack(request):
    state = tempfile.mkdtemp(prefix=f"llmoin-{request.module.__name__}-")
    os.chmod(state, 0o755)
    node = Stack(state).start()
    node.add_model()
    yield node
    node.stop()
    if not os.environ.get("LLMOIN_KEEP_STATE"):
        shutil.rmtree(state, ignore_errors=True)
