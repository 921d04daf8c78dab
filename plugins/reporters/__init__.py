"""Built-in reporters, one plugin module each: the markdown and CSV leaderboards
(``leaderboards``) and the HTML report of a run (``html``)."""
