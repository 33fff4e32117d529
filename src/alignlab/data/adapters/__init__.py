"""Adapters from published dataset formats to alignlab records, looked up by name (``get_adapter("hh-rlhf")``).

Register your own with ``@adapter("name", produces="preference")`` on a function from one raw row to records.
"""

from alignlab.data.adapters._registry import Adapter, adapter, adapters, get_adapter, need, register_adapter

__all__ = ["Adapter", "adapter", "adapters", "get_adapter", "need", "register_adapter"]
