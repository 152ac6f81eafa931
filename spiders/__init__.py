"""Scrapy spiders, one per public source; each spider's ``name`` is its source's name."""
