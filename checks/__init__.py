"""One module per public source: crawl -> store -> detect, for that source.

This is the only layer that imports spiders, storage and monitor together. Each module has a
``check(engine, settings, ...)`` that returns a :class:`checks.run.CheckReport`, and runs inside
:func:`checks.run.crawl_run`, so every check records one CrawlRun the same way. The registry of
sources is :data:`storage.sources.SOURCES`.
"""
