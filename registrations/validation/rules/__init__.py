"""The remark rules: the protocol (base), one module per family (remarks), the registry."""
