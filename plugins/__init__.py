"""ropbench's built-in plugins, importable as ``ropbench_plugins``.

Each subpackage is a plain module of ``@hookimpl`` functions, registered at start-up by
dotted name exactly like a third-party entry point (see ``ropbench.pluginmanager``).
"""
