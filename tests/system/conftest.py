"""Fixtures shared by the system tests: each test module gets one real
llmoin node (see llmoin_stack.py), stopped when the module is done.

The node's directory must be traversable by the users the servers drop to
when the tests run as root (postgres, nobody), so it is not pytest's private
tmp_path. Set LLMOIN_KEEP_STATE=1 to keep it for a post-mortem.

When the servers stop, their logs are searched for sanitizer reports (the
ASan+UBSan build of ./ops/test): a report fails the module's last test."""

import contextlib
import os
import shutil
import tempfile

import pytest

from llmoin_stack import Stack, sanitizer_reports


@contextlib.contextmanager
def running_node(name, *start_args):
    """A node started with ops/stack start START_ARGS (e.g. --inference URL),
    stopped at the end, its logs searched for sanitizer reports."""
    state = tempfile.mkdtemp(prefix=f"llmoin-{name}-")
    os.chmod(state, 0o755)
    node = Stack(state)
    try:
        node.start(*start_args)
        node.add_model()
        yield node
    finally:
        node.stop()
        reports = sanitizer_reports(node.state)
        if not os.environ.get("LLMOIN_KEEP_STATE") and not reports:
            shutil.rmtree(state, ignore_errors=True)
    assert reports == [], f"sanitizer reports (state kept in {state}):\n" + "\n".join(reports)


@pytest.fixture(scope="module")
def stack(request):
    with running_node(request.module.__name__) as node:
        yield node
