"""Framing of control commands on stream links (serial, TCP): the firmware's own COBS+CRC frames.

The wire format lives in one place, ``movecoach.firmware.framing`` (shared with the board);
this module only adapts it for the transports.
"""

from __future__ import annotations


def frame_control(command: bytes) -> bytes:
    """One control command -> one delimited frame ready to write to a serial/TCP stream."""
    from movecoach.firmware import framing

    return bytes(framing.encode_frame(bytes(command)))
