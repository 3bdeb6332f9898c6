"""Publish coach events to an MQTT broker (paho-mqtt 2.x), losing nothing when the broker is away.

Topics live under ``<prefix>/<device_id>/`` (``docs/mqtt.md`` lists every topic and field):
``status`` (retained ``online``/``offline``, the will), ``session``, ``step``, ``rep``,
``rep/start``, ``hold``, ``set``, ``cue``, ``sway``, ``walk``, ``walk/progress``, ``link``,
``feel``. Payloads are JSON with
``"v": 1``, ``"type"`` (the event kind), ``"ts"`` (unix seconds), ``"seq"`` (per-device, strictly
increasing across runs) and the event's own fields.

Connecting: the sink connects before the session starts. A TLS certificate the host does not
trust, a TLS handshake that fails, or a broker that refuses the login is a one-line UserError
naming the cause, so the session does not start with feedback that goes nowhere. A broker that
cannot be reached is reported then (a warning), and again when it can be reached: the session
goes on meanwhile and its messages wait.

Secrets and privacy: the password comes from the config file (warned about when others can read
it), ``MOVECOACH_MQTT_PASSWORD``, or (warned about: ``ps`` shows it to every user) the
``--mqtt-password`` flag. The free-text how-you-feel note is published only with ``notes=True``
(``--mqtt-notes``), on its own topic ``feel/note``, never retained; the retained ``feel`` and
``session`` messages carry the score only.

Delivery: QoS 1 messages go through an own ordered outbox. A message is handed to paho only
while connected and only one at a time (the next one after the broker's PUBACK), so a broker
outage or restart neither reorders nor loses reps: paho re-sends the one in flight after the
reconnect, the rest follow in order. With ``queue_dir`` the outbox is also journalled to disk
and survives a restart of the coach itself. QoS 0 messages (hold ticks, cues, rep starts) are
live-only and are skipped while disconnected.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import ssl
import threading
import time
import tomllib
from collections import deque
from dataclasses import dataclass, fields, replace
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from movecoach import __version__
from movecoach.errors import UserError
from movecoach.events import Event, Feel, FeelNote, SessionEnd, Walk, to_dict
from movecoach.limits import check_port
from movecoach.store.paths import make_private_dir, private_file

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SHUTDOWN_TIMEOUT_S = 2.0
# How long the sink waits for the broker to accept it before the session starts. A broker on the
# local network answers in milliseconds; one that does not answer in this time is reported as
# unreachable and the session goes on.
CONNECT_TIMEOUT_S = 5.0
PASSWORD_ENV = "MOVECOACH_MQTT_PASSWORD"
CONFIG_NAME = "mqtt.toml"

# event kind -> (sub-topic, qos, retain)
ROUTES: dict[str, tuple[str, int, bool]] = {
    "session_start": ("session", 1, True),
    "session_end": ("session", 1, True),
    "step_start": ("step", 1, False),
    "step_end": ("step", 1, False),
    "rep_start": ("rep/start", 0, False),
    "rep": ("rep", 1, False),
    "hold_start": ("hold", 1, False),
    "hold_tick": ("hold", 0, False),
    "hold_done": ("hold", 1, False),
    "cue": ("cue", 0, False),
    "set_complete": ("set", 1, False),
    "rest": ("set", 1, False),
    "sway": ("sway", 1, True),
    # a walk's totals and bouts, retained like the balance result (its strides: in the recording)
    "walk": ("walk", 1, True),
    "walk_progress": ("walk/progress", 0, False),  # each stride, live
    "walk_minute": ("walk/progress", 0, False),  # the minutes and the distance so far
    "link": ("link", 1, True),
    "feel": ("feel", 1, True),
    "feel_note": ("feel/note", 1, False),  # free text: never retained, only with notes=True
}
_OTHER_ROUTE = ("event", 1, False)
# Fields the sink adds to an event's own (`movecoach.events`): kind -> names.
SINK_FIELDS: dict[str, tuple[str, ...]] = {
    "rep": ("session_reps",),  # reps published so far in this session, all exercises
}

_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class MqttConfig:
    """Where and how to publish: the one list of MQTT settings, read by :class:`MqttSink`, the
    config file (``load_config``) and the command line.

    broker: ``"host:port"``. device_id: the topic level after the prefix. tls/ca_certs/certfile/
    keyfile: TLS to the broker (system CAs when ca_certs is None; any file implies TLS).
    client_id: defaults to ``movecoach-<device_id>``; the session is persistent
    (clean_session=False). ha_discovery: publish Home Assistant discovery configs. queue_dir: keep
    unacknowledged QoS 1 messages on disk across restarts. notes: publish the how-you-feel note
    (free text; on ``feel/note``, never retained).
    """

    broker: str = "127.0.0.1:1883"
    device_id: str = "movecoach"
    prefix: str = "movecoach"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    client_id: str | None = None
    ha_discovery: bool = False
    queue_dir: str | None = None
    notes: bool = False


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/movecoach/mqtt.toml``, else ``~/.config/movecoach/mqtt.toml`` (read by
    `movecoach coach` when it exists and no --mqtt-config is given)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "movecoach" / CONFIG_NAME


def load_config(path: str | Path) -> MqttConfig:
    """Read an :class:`MqttConfig` from a TOML file (keys at top level or in an ``[mqtt]`` table).

    Unknown keys and wrong types raise :class:`UserError` naming the file and the key. A file
    holding a password that other users may read is warned about (``chmod 600`` it).
    """
    path = Path(path).expanduser()
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"{path}: MQTT config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    table = doc.get("mqtt", doc)
    if not isinstance(table, dict):
        raise UserError(f"{path}: [mqtt] must be a table")
    known = {f.name: f for f in fields(MqttConfig)}
    values: dict = {}
    for key, value in table.items():
        if key not in known:
            raise UserError(f"{path}: unknown MQTT setting {key!r} (known: {', '.join(known)})")
        want = bool if key in ("tls", "ha_discovery", "notes") else str
        if not isinstance(value, want):
            raise UserError(f"{path}: MQTT setting {key!r} must be a {want.__name__}, got {value!r}")
        values[key] = value
    if values.get("password") and path.stat().st_mode & 0o077:
        log.warning("%s holds the MQTT password and other users can read it: chmod 600 %s",
                    path, path)
    return MqttConfig(**values)


def sink_options(*, config: str | Path | None = None, broker: str | None = None,
                 password_flag: str | None = None, env: dict | None = None,
                 **overrides) -> dict:
    """The keyword arguments of :class:`MqttSink` from a config file (or None), command-line
    overrides (None: not given) and the environment.

    The password: ``password_flag`` (--mqtt-password: warned about, every user sees it in
    ``ps``), else ``$MOVECOACH_MQTT_PASSWORD``, else the config file's. ca_certs, certfile or
    keyfile imply TLS.
    """
    env = os.environ if env is None else env
    kwargs: dict = {}
    if config is not None:
        kwargs = {k: v for k, v in vars(load_config(config)).items() if v is not None}
    kwargs.update({k: v for k, v in overrides.items() if v is not None and v is not False})
    if broker is not None:
        kwargs["broker"] = broker
    if password_flag is not None:
        log.warning("--mqtt-password is visible to every user of this machine (ps); put the "
                    "password in the config file (chmod 600) or %s instead", PASSWORD_ENV)
        kwargs["password"] = password_flag
    elif env.get(PASSWORD_ENV):
        kwargs["password"] = env[PASSWORD_ENV]
    kwargs.pop("device_id", None)
    return kwargs


def parse_broker(broker: str, *, tls: bool = False) -> tuple[str, int]:
    """``"host:port"``, ``"host"``, ``"[::1]:1883"`` or ``"mqtt://host:port"`` -> (host, port).

    Without a port: 1883, or 8883 with TLS.
    """
    text = broker.strip()
    for scheme in ("mqtt://", "mqtts://", "tcp://"):
        if text.startswith(scheme):
            text = text[len(scheme):]
    text = text.rstrip("/")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        host, port_text = text[1:end], text[end + 2:] if end + 1 < len(text) else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise UserError(f"broker {broker!r}: no host name (expected host:port)")
    if not port_text:
        return host, 8883 if tls else 1883
    if not port_text.isdigit():
        raise UserError(f"broker {broker!r}: port must be a number 1-65535")
    return host, check_port(f"broker {broker!r}: port", int(port_text))


@dataclass
class _Out:
    """One QoS 1 message waiting for the broker's PUBACK."""

    seq: int
    topic: str
    payload: str
    retain: bool


class _Journal:
    """The outbox on disk: append-only JSON lines of ``add`` and ``ack`` records, compacted on open."""

    def __init__(self, queue_dir: str | Path, device_id: str):
        self.path = Path(queue_dir).expanduser() / f"{_SAFE_ID.sub('_', device_id)}.outbox.jsonl"
        make_private_dir(self.path.parent)  # the messages describe a person's session
        self._file = None

    def load(self) -> tuple[list[_Out], int]:
        """The unacknowledged messages in order, and the highest seq ever used (0 if none)."""
        pending: dict[int, _Out] = {}
        last_seq = 0
        if self.path.exists():
            for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
                try:
                    rec = json.loads(line)
                    if rec["op"] == "add":
                        pending[rec["seq"]] = _Out(rec["seq"], rec["topic"], rec["payload"], rec["retain"])
                    elif rec["op"] == "ack":
                        pending.pop(rec["seq"], None)
                    last_seq = max(last_seq, int(rec["seq"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d: skipping a damaged outbox record", self.path, n)
        out = [pending[s] for s in sorted(pending)]
        self._rewrite(out, last_seq)
        return out, last_seq

    def _rewrite(self, pending: list[_Out], last_seq: int) -> None:
        tmp = private_file(self.path.with_suffix(".tmp"))
        with tmp.open("w", encoding="utf-8") as f:
            for m in pending:
                f.write(json.dumps({"op": "add", "seq": m.seq, "topic": m.topic,
                                    "payload": m.payload, "retain": m.retain}) + "\n")
            if not pending and last_seq:
                f.write(json.dumps({"op": "ack", "seq": last_seq}) + "\n")
        tmp.replace(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def add(self, m: _Out) -> None:
        self._write({"op": "add", "seq": m.seq, "topic": m.topic, "payload": m.payload, "retain": m.retain})

    def ack(self, seq: int) -> None:
        self._write({"op": "ack", "seq": seq})

    def _write(self, rec: dict) -> None:
        if self._file is not None:
            self._file.write(json.dumps(rec) + "\n")
            self._file.flush()

    def close(self, pending: list[_Out], last_seq: int) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._rewrite(pending, last_seq)
        self._file.close()
        self._file = None


class MqttSink:
    """Publishes coach events to ``<prefix>/<device_id>/...``; ``handle()`` never blocks.

    The settings are :class:`MqttConfig`'s fields (defined and explained there): ``config``
    (default ``MqttConfig()``), each overridden by a keyword of the same name, e.g.
    ``MqttSink("host:1883", device_id="foot1")``; broker, the one positional argument, is
    ``"host:port"`` (``--broker``). Settings from a file: ``MqttSink.from_config(load_config(path))``.
    reconnect_delay_s: (first, longest) wait between reconnection attempts, s.
    connect_timeout_s: how long the constructor waits for the broker's answer (see the module
    docstring: refusals raise UserError, an unreachable broker is a warning).

    ``connected`` says whether the broker is reachable now, ``pending`` how many QoS 1 messages
    wait for delivery; ``published`` counts delivered QoS 1 messages.
    """

    def __init__(
        self,
        broker: str | None = None,
        *,
        config: MqttConfig | None = None,
        reconnect_delay_s: tuple[float, float] = (1.0, 30.0),
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        **settings,
    ):
        if broker is not None:
            settings["broker"] = broker
        try:  # the settings are MqttConfig's fields, defined there once
            cfg = replace(config or MqttConfig(), **settings)
        except TypeError:
            known = ", ".join(f.name for f in fields(MqttConfig))
            raise TypeError(f"unknown MQTT setting(s) {sorted(settings)} (known: {known})") from None
        self.config = cfg
        device_id, prefix, notes = cfg.device_id, cfg.prefix, cfg.notes
        ca_certs, certfile, keyfile = cfg.ca_certs, cfg.certfile, cfg.keyfile
        if not device_id or "/" in device_id or "+" in device_id or "#" in device_id:
            raise UserError(f"device id {device_id!r} must be non-empty and contain no / + #")
        self.device_id = device_id
        self.notes = notes
        self.prefix = prefix.strip("/")
        self.base_topic = f"{self.prefix}/{device_id}"
        self.status_topic = f"{self.base_topic}/status"
        tls = cfg.tls or any(x is not None for x in (ca_certs, certfile, keyfile))  # a CA means TLS
        self.host, self.port = parse_broker(cfg.broker, tls=tls)
        self.ha_discovery = cfg.ha_discovery
        self.tls = tls
        self._down_since: float | None = None  # monotonic time the broker was found unreachable
        self._refused: str | None = None  # the reason of the last refused login
        self._closed_unanswered = False  # the first connection closed before the broker answered
        self._answered = threading.Event()

        self._journal = _Journal(cfg.queue_dir, device_id) if cfg.queue_dir else None
        restored: list[_Out] = []
        last_seq = 0
        if self._journal is not None:
            restored, last_seq = self._journal.load()
            if restored:
                log.info("%d undelivered MQTT messages restored from %s", len(restored), self._journal.path)
        # Seeded from the clock (ms) so seq keeps increasing across runs even without queue_dir.
        self._seq = max(int(time.time() * 1000), last_seq + 1)
        self._session_reps: dict[str, int] = {}
        self._order_lock = threading.Lock()  # seq order == outbox order, whoever calls handle()

        # Worker-thread state (touched only by the worker once it runs).
        self._outbox: deque[_Out] = deque(restored)
        self._inflight: dict[int, _Out] = {}
        self._window = 1
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._connected = False
        self._connected_seen = threading.Event()  # the worker has taken in a CONNACK
        self._published = 0
        self._closed = False

        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"movecoach-{device_id}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        if cfg.username is not None:
            self._client.username_pw_set(cfg.username, cfg.password)
        if tls:
            self._tls(ca_certs, certfile, keyfile)
        self._client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self._client.max_inflight_messages_set(self._window + 2)  # + online/offline status
        self._client.reconnect_delay_set(min_delay=reconnect_delay_s[0], max_delay=reconnect_delay_s[1])
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

        if cfg.ha_discovery:
            for topic, discovery in self.discovery_configs().items():
                self._inbox.put(("out", _Out(self._next_seq(), topic, json.dumps(discovery), True)))

        self._client.on_connect_fail = self._on_connect_fail
        self._client.connect_timeout = connect_timeout_s
        self._connect(connect_timeout_s)
        self._worker = threading.Thread(target=self._run, name=f"mqtt-{device_id}", daemon=True)
        self._worker.start()
        if self._answered.is_set() and self._refused is None and self._down_since is None:
            # accepted: `connected` is true once the constructor returns (the worker takes the
            # CONNACK from its inbox a moment after it starts)
            self._connected_seen.wait(1.0)

    def _tls(self, ca_certs: str | None, certfile: str | None, keyfile: str | None) -> None:
        for what, path in (("CA file", ca_certs), ("client certificate", certfile),
                           ("client key", keyfile)):
            if path is not None and not Path(path).expanduser().is_file():
                raise UserError(f"MQTT TLS {what} {path}: no such file")
        try:
            self._client.tls_set(ca_certs=_expand(ca_certs), certfile=_expand(certfile),
                                 keyfile=_expand(keyfile), cert_reqs=ssl.CERT_REQUIRED)
        except (ssl.SSLError, OSError) as exc:
            raise UserError(f"MQTT TLS: cannot use {ca_certs or certfile or keyfile or 'the system CAs'}"
                            f": {getattr(exc, 'reason', None) or exc}") from None

    def _connect(self, timeout_s: float) -> None:
        """Connect before the session starts; UserError when the broker refuses us."""
        where = f"MQTT broker {self.host}:{self.port}"
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except ssl.SSLCertVerificationError as exc:
            raise UserError(f"{where}: its TLS certificate is not trusted ({exc.verify_message}): "
                            "give the CA that signed it with --mqtt-ca FILE") from None
        except ssl.SSLError as exc:
            raise UserError(f"{where}: the TLS handshake failed ({exc.reason or exc}); is "
                            f"{self.port} the broker's TLS port?") from None
        except ValueError as exc:
            raise UserError(f"{where}: {exc}") from None
        except ConnectionResetError as exc:
            if self.tls:  # it answered, but not in TLS
                raise UserError(f"{where}: the TLS handshake failed (the broker reset the "
                                f"connection); is {self.port} the broker's TLS port?") from exc
            raise UserError(f"{where} reset the connection at once; is {self.port} a TLS port "
                            "(then add --mqtt-tls)?") from exc
        except OSError as exc:  # down, or no network: the session goes on, messages wait
            self._down_since = time.monotonic()
            log.warning("%s is not reachable (%s); the session goes on and its messages are "
                        "sent when the broker is back", where, exc.strerror or exc)
            self._client.loop_start()  # paho keeps trying, with a back-off
            return
        self._client.loop_start()
        if not self._answered.wait(timeout_s):
            self._down_since = time.monotonic()
            log.warning("%s did not answer within %g s; the session goes on and its messages "
                        "are sent when it does", where, timeout_s)
            return
        if self._refused is not None or self._closed_unanswered:
            self._client.disconnect()
            self._client.loop_stop()
            if self._refused is None:
                raise UserError(f"{where} closed the connection without answering; is "
                                f"{self.port} a TLS port (then add --mqtt-tls)?")
            raise UserError(f"{where} refused the connection: {self._refused} (check the "
                            f"user name and the password: config file or {PASSWORD_ENV})")

    @classmethod
    def from_config(cls, config: MqttConfig, **overrides) -> MqttSink:
        """A sink from a :class:`MqttConfig`; keyword overrides win (e.g. ``broker=args.broker``)."""
        return cls(config=config, **{k: v for k, v in overrides.items() if v is not None})

    # -- public API ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def pending(self) -> int:
        """QoS 1 messages not yet acknowledged by the broker (approximate while running)."""
        return len(self._outbox) + self._inbox.qsize()

    @property
    def published(self) -> int:
        return self._published

    def handle(self, event: Event) -> None:
        """Turn one event into one message; returns at once (the network runs on other threads)."""
        if self._closed:
            log.debug("MQTT sink closed; dropping %s", event.kind)
            return
        if isinstance(event, Feel):
            self._publish_feel(event)
            return
        if isinstance(event, Walk) and event.stride_list is not None:
            # every stride went out live on walk/progress; the retained summary keeps to totals
            # and bouts (a 6-minute walk has ~300 strides)
            event = replace(event, stride_list=None)
        if not isinstance(event, SessionEnd) or not isinstance(event.summary, dict):
            self._publish(event)
            return
        summary = event.summary
        note = summary.get("feel_note")
        if "feel_note" in summary:  # the retained summary carries the score, not the note
            event = replace(event, summary={k: v for k, v in summary.items() if k != "feel_note"})
        self._publish(event)
        if summary.get("feel") is not None:
            self._publish_feel(Feel(t_s=event.t_s, session_id=event.session_id,
                                    device_id=self.device_id, score=summary["feel"], note=note))

    def _publish_feel(self, event: Feel) -> None:
        """The score, retained, on ``feel``; the note only with notes=True, on ``feel/note``."""
        self._publish(replace(event, note=None))
        if event.note and self.notes:
            self._publish(FeelNote(t_s=event.t_s, session_id=event.session_id,
                                   device_id=self.device_id, note=event.note))

    def _publish(self, event: Event) -> None:
        subtopic, qos, retain = ROUTES.get(event.kind, _OTHER_ROUTE)
        topic = f"{self.base_topic}/{subtopic}"
        with self._order_lock:
            payload = self._payload(event)
            text = json.dumps(payload, allow_nan=False, default=str)
            if qos == 0:
                self._inbox.put(("live", topic, text))
            else:
                self._inbox.put(("out", _Out(payload["seq"], topic, text, retain)))

    def publish_feel(self, score: float, *, note: str = "", t_s: float | None = None,
                     session_id: str | None = None) -> None:
        """Publish how the person feels (retained on ``feel``), e.g. from ``movecoach feel``."""
        self.handle(Feel(t_s=time.time() if t_s is None else t_s, session_id=session_id,
                         device_id=self.device_id, score=score, note=note or None))

    def _payload(self, event: Event) -> dict:
        """The JSON document published for ``event`` (takes the next seq)."""
        doc = {"v": SCHEMA_VERSION, "type": event.kind, "ts": round(event.t_s, 3), "seq": self._next_seq()}
        data = to_dict(event)
        if data.get("device_id") is None:  # an event made without one is this wearable's
            data["device_id"] = self.device_id
        if event.kind == "rep":
            sid = str(data.get("session_id"))
            self._session_reps[sid] = self._session_reps.get(sid, 0) + 1
            data["session_reps"] = self._session_reps[sid]
        for key, value in data.items():
            if key not in doc:
                doc[key] = value
        return doc

    def discovery_configs(self) -> dict[str, dict]:
        """Home Assistant MQTT discovery: config topic -> config document (all retained)."""
        dev = _SAFE_ID.sub("_", self.device_id)
        device = {
            "identifiers": [f"movecoach_{dev}"],
            "name": f"movecoach {self.device_id}",
            "manufacturer": "movecoach",
            "model": "wearable movement coach",
            "sw_version": __version__,
        }
        sensors = {
            "last_rep_count": ("Last rep count", "rep", "{{ value_json.count }}", "reps", "mdi:counter"),
            "session_reps": ("Reps this session", "rep", "{{ value_json.session_reps }}", "reps",
                             "mdi:sigma"),
            "sway_rms": ("Sway RMS", "sway", "{{ value_json.metrics.rms }}", "m/s²", "mdi:human"),
            "sway_area": ("Sway ellipse area", "sway", "{{ value_json.metrics.ellipse_area_95 }}",
                          "(m/s²)²", "mdi:ellipse-outline"),
            "walk_speed": ("Walking speed", "walk", "{{ value_json.speed_m_s }}", "m/s", "mdi:walk"),
            "walk_cadence": ("Walking cadence", "walk", "{{ value_json.cadence_spm }}", "steps/min",
                             "mdi:shoe-print"),
            "feel": ("How I feel", "feel", "{{ value_json.score }}", None, "mdi:emoticon-outline"),
        }
        configs = {}
        for obj, (name, sub, template, unit, icon) in sensors.items():
            cfg = {
                "name": name,
                "unique_id": f"movecoach_{dev}_{obj}",
                "object_id": f"movecoach_{dev}_{obj}",
                "state_topic": f"{self.base_topic}/{sub}",
                "value_template": template,
                "availability_topic": self.status_topic,
                "payload_available": "online",
                "payload_not_available": "offline",
                "icon": icon,
                "device": device,
            }
            if unit is not None:
                cfg["unit_of_measurement"] = unit
                cfg["state_class"] = "measurement"
            configs[f"homeassistant/sensor/{dev}/{obj}/config"] = cfg
        return configs

    def close(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Deliver what is outstanding (at most ``timeout_s``), publish ``offline``, disconnect.

        Messages the broker did not acknowledge in time stay in the disk outbox (``queue_dir``)
        for the next run; without one they are logged as lost.
        """
        if self._closed:
            return
        self._closed = True
        done = threading.Event()
        self._inbox.put(("close", timeout_s, done))
        self._worker.join(timeout_s + 3.0)
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> MqttSink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- paho callbacks (network thread): only report to the worker ----------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            reason = str(reason_code)
            if self._answered.is_set() and reason != self._refused:  # mid-session: say it once
                log.error("MQTT broker %s:%d refused the connection: %s; messages wait, but are "
                          "not delivered until that is fixed", self.host, self.port, reason)
            self._refused = reason
            self._answered.set()
            return
        if self._down_since is not None or self._refused is not None:
            log.warning("MQTT broker %s:%d is reachable again; sending the %d waiting messages",
                        self.host, self.port, self.pending)
        else:
            log.info("MQTT connected to %s:%d (session present: %s)", self.host, self.port,
                     flags.session_present)
        self._down_since = None
        self._refused = None
        self._answered.set()
        client.publish(self.status_topic, "online", qos=1, retain=True)
        self._inbox.put(("connected",))

    def _on_connect_fail(self, client, userdata) -> None:
        if self._down_since is None and not self._closed:
            log.warning("MQTT broker %s:%d went away; messages wait until it is back",
                        self.host, self.port)
            self._down_since = time.monotonic()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if not self._answered.is_set():  # the first connection ended before any CONNACK
            self._closed_unanswered = True
            self._answered.set()
            self._inbox.put(("disconnected",))
            return
        if not self._closed and self._refused is None and self._down_since is None:
            log.warning("MQTT connection to %s:%d lost (%s); messages wait until it is back",
                        self.host, self.port, reason_code)
            self._down_since = time.monotonic()
        self._inbox.put(("disconnected",))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._inbox.put(("acked", mid))

    # -- worker thread ------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _run(self) -> None:
        while True:
            cmd = self._inbox.get()
            if cmd[0] == "close":
                self._shutdown(cmd[1])
                cmd[2].set()
                return
            self._apply(cmd)
            self._pump()

    def _apply(self, cmd: tuple) -> None:
        op = cmd[0]
        if op == "out":
            self._outbox.append(cmd[1])
            if self._journal is not None:
                self._journal.add(cmd[1])
        elif op == "live":
            if self._connected:
                self._client.publish(cmd[1], cmd[2], qos=0, retain=False)
        elif op == "acked":
            out = self._inflight.pop(cmd[1], None)
            if out is not None:
                self._outbox.remove(out)
                self._published += 1
                if self._journal is not None:
                    self._journal.ack(out.seq)
        elif op == "connected":
            self._connected = True
            self._connected_seen.set()
        elif op == "disconnected":
            # Messages in flight stay with paho, which re-sends them (DUP) after reconnecting.
            self._connected = False

    def _pump(self) -> None:
        """Hand the next messages to paho, in order, while connected and the window allows."""
        if not self._connected:
            return
        inflight = set(map(id, self._inflight.values()))
        for out in self._outbox:
            if len(self._inflight) >= self._window:
                break
            if id(out) in inflight:
                continue
            info = self._client.publish(out.topic, out.payload, qos=1, retain=out.retain)
            self._inflight[info.mid] = out

    def _shutdown(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        # Drain the inbox and deliver the outbox while time allows.
        while time.monotonic() < deadline:
            try:
                cmd = self._inbox.get(timeout=0.05)
            except queue.Empty:
                cmd = None
            if cmd is not None:
                self._apply(cmd)
            self._pump()
            if not self._outbox and self._inbox.empty():
                break
        if self._connected:
            info = self._client.publish(self.status_topic, "offline", qos=1, retain=True)
            while not info.is_published() and time.monotonic() < deadline:
                time.sleep(0.01)
        if self._outbox:
            if self._journal is not None:
                log.warning("%d MQTT messages not delivered; kept in %s for the next run",
                            len(self._outbox), self._journal.path)
            else:
                log.warning("%d MQTT messages not delivered before shutdown (broker %s:%d)",
                            len(self._outbox), self.host, self.port)
        if self._journal is not None:
            self._journal.close(list(self._outbox), self._seq)


class SeqFilter:
    """Drops repeated deliveries for a consumer: MQTT 3.1.1 QoS 1 is *at least* once.

    A broker re-sends (DUP) every message its subscriber had not acknowledged when the
    connection or the broker went down, so a rep can arrive twice. ``accept(doc)`` is True the
    first time and False for any payload whose ``seq`` is not above the last one accepted for
    its device. Use one filter per topic (retained messages arrive with their old seq).
    """

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def accept(self, doc: dict) -> bool:
        device, seq = str(doc.get("device_id")), doc.get("seq")
        if not isinstance(seq, int):
            return True
        if seq <= self._last.get(device, -1):
            return False
        self._last[device] = seq
        return True


def _expand(path: str | None) -> str | None:
    return None if path is None else str(Path(path).expanduser())

