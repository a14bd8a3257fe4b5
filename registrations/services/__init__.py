"""Every write: one function per action, keyword-only, atomic; the gateways, the console and the tasks call these."""
