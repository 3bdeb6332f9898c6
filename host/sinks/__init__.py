"""Where coach events go: MQTT (`mqtt`), the voice (`speech`) and the terminal (`console`).

Each sink has ``handle(event)`` (returns at once) and ``close()``; see :class:`movecoach.events.Sink`.
The modules are imported on use so that, e.g., the console works without paho installed.
"""
