"""The commands, each a plain function returning an exit code: no click, no ``os.environ``
(``ctflow.cli`` parses argv and hands over what it read from the process). A command wires its
domain package to the client and the journal; no domain package imports this one.

    shared.py     what the commands share: the invocation, connecting, a journaled, locked run
    init.py validate.py                          the project, offline
    plan.py apply.py stop.py                     the plan (ctflow.plan)
    upload.py                                    uploads (ctflow.upload)
    send.py render.py                            transactional messages (ctflow.send)
    drift.py                                     the tracking plan's drift (ctflow.drift)
    now.py campaigns.py report.py count.py export.py profile.py
                                                 reads of the account (the client)
    reading.py query.py                          what the reads share: printing, where queries
    sandbox.py                                   the built-in emulator (ctflow.sandbox)
"""
