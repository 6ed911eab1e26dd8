"""The read commands of issue 6: ``campaigns list``, ``report``, ``count``, ``export`` and
``profile get|delete``; each a plain function returning an exit code (``now`` is in
:mod:`ctflow.readcmd`). They read the account through the client and print; they never import
click or read the process (``cli.py`` hands them a :class:`~ctflow.reads.context.Reader`).
"""
