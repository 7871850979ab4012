"""Quiet handling of undecodable WebSocket frames.

A text frame that is not valid UTF-8 never reaches the app: uvicorn closes the connection with
code 1007 (invalid frame payload data), which is right, but logs it with
``logger.exception`` -- an ERROR and a traceback for every such frame, so anyone can fill the
error log. A client's bad bytes are not our error: this filter on ``uvicorn.error`` turns that
one record into a single INFO line without the traceback (and drops it when INFO is off)."""

from __future__ import annotations

import logging

from games.play.consumers import MAX_FRAME_BYTES

# The largest WebSocket message the server reads (``uvicorn --ws-max-size``): every message the
# consumers accept (at most MAX_FRAME_BYTES characters, at most 4 bytes each in UTF-8) fits;
# a bigger frame is refused by the server with close code 1009 before it is buffered.
WS_MAX_MESSAGE_BYTES = 4 * MAX_FRAME_BYTES

UVICORN_LOGGER = "uvicorn.error"
# uvicorn's websockets-sansio protocol (its default with websockets installed) and its
# legacy websockets protocol word it so.
INVALID_UTF8_MESSAGES = ("Invalid UTF-8 sequence received from client.",)
QUIET_MESSAGE = "websocket closed with 1007: the client sent a text frame that is not valid UTF-8"


class InvalidUtf8FrameFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() not in INVALID_UTF8_MESSAGES:
            return True
        if not logging.getLogger(record.name).isEnabledFor(logging.INFO):
            return False
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = QUIET_MESSAGE, ()
        record.exc_info = record.exc_text = None
        return True


def install() -> None:
    """Add the filter to uvicorn's logger once (the ASGI module calls this on import)."""
    logger = logging.getLogger(UVICORN_LOGGER)
    if not any(isinstance(f, InvalidUtf8FrameFilter) for f in logger.filters):
        logger.addFilter(InvalidUtf8FrameFilter())
