"""Built-in executors, one plugin module each: ``local`` (in-process, in order) and
``ray`` (a Ray cluster). ``ray`` is always registered so that ``ropbench list executors``
shows it; Ray itself is an optional extra, imported only when a run uses it."""
