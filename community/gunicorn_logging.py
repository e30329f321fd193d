"""Gunicorn's logs without personal data: its access log prints each request's line, query string and
referrer, where an API client's `?q=+12025550142` would otherwise be kept in full. `gunicorn.conf.py` (read
when gunicorn starts in the project's directory, as README's production section does) names this class.

Masks as `common.logs` does for the platform's own logs: the URL-bearing atoms of the access log format
(`%(r)s`, `%(q)s`, `%(f)s`, their header and environ spellings), then every line of both logs.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from common.logs import PersonalDataFilter, query_mask, text_mask

_URL_ATOMS = ("r", "f", "{referer}i", "{raw_uri}e", "{request_uri}e", "{http_referer}e")
_QUERY_ATOMS = ("q", "{query_string}e")


class PersonalDataMaskingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, PersonalDataFilter) for existing in log.filters):
                log.addFilter(PersonalDataFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in _QUERY_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = query_mask(atoms[name])
        for name in _URL_ATOMS:
            if isinstance(atoms.get(name), str):
                atoms[name] = text_mask(atoms[name])
        return atoms
