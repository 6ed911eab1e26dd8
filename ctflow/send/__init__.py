"""Transactional sends of declared Triggers: rendered, checked, sent once (``ctflow send``,
``ctflow render`` and ``Project.send``)."""
