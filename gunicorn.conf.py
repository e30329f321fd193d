"""Gunicorn's settings for this project, read when gunicorn starts in this directory (README, Production;
elsewhere, pass `-c path/to/gunicorn.conf.py`). Command-line options still apply on top."""

# Access and error log lines with phone numbers and emails masked (community/gunicorn_logging.py).
logger_class = "community.gunicorn_logging.PersonalDataMaskingLogger"
