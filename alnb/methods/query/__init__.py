"""AL query methods: ``get_query_method(name).select(ctx)`` returns global indices of U to label."""

from alnb.methods.query import methods, uherding  # noqa: F401  (registers the methods)
from alnb.methods.query.base import (
    QUERY_METHODS,
    ModelOutputs,
    QueryContext,
    QueryMethod,
    get_query_method,
    register_query,
)

__all__ = ["QUERY_METHODS", "ModelOutputs", "QueryContext", "QueryMethod", "get_query_method", "register_query"]
