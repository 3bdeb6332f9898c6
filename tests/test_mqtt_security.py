"""MQTT failures that used to look like success: a wrong CA, a wrong password, a broker that is down.
Against a real mosquitto on 127.0.0.1 with a password file and a TLS listener whose certificates
the test makes with openssl."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_mqtt_sink import SESSION, Subscriber, wait_until

from movecoach.errors import UserError
from movecoach.events import from_dict
from movecoach.sinks.broker import LocalBroker, free_port
from movecoach.sinks.mqtt import MqttSink, load_config, sink_options

MOVECOACH = str(Path(sys.executable).with_name("movecoach"))
USER, PASSWORD = "coach", "s3cret-pw"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    """A CA, a server certificate for 127.0.0.1 signed by it, and another CA that signed nothing."""
    d = tmp_path_factory.mktemp("certs")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key",
                "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN=movecoach test {ca}", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d


@pytest.fixture
def secure_broker(tmp_path, certs):
    """mosquitto with users only (no anonymous access): plain on .port, TLS on .tls_port."""
    with LocalBroker(workdir=tmp_path / "broker", users={USER: PASSWORD},
                     tls=(str(certs / "server.pem"), str(certs / "server.key"))) as b:
        yield b


def sink(address: str, **kw) -> MqttSink:
    return MqttSink(address, device_id="foot1", connect_timeout_s=5.0, **kw)


def test_the_right_login_over_tls_with_the_right_ca_publishes(secure_broker, certs):
    s = sink(f"127.0.0.1:{secure_broker.tls_port}", username=USER, password=PASSWORD,
             ca_certs=str(certs / "ca.pem"))  # a CA implies TLS
    assert s.tls and s.connected
    s.handle(from_dict("rep", 1.0, {**SESSION, "count": 1}))
    wait_until(lambda: s.published == 1)
    s.close()


def test_a_certificate_from_another_ca_is_an_immediate_error_naming_the_cause(secure_broker, certs):
    t0 = time.monotonic()
    with pytest.raises(UserError) as exc:  # before: no error at all, rc 0
        sink(f"127.0.0.1:{secure_broker.tls_port}", username=USER, password=PASSWORD,
             ca_certs=str(certs / "other-ca.pem"))
    msg = str(exc.value)
    assert "certificate is not trusted" in msg and "--mqtt-ca" in msg and "\n" not in msg
    assert time.monotonic() - t0 < 5


def test_tls_to_the_plain_port_says_the_handshake_failed(secure_broker, certs):
    with pytest.raises(UserError, match="TLS handshake failed"):
        sink(secure_broker.address, username=USER, password=PASSWORD, ca_certs=str(certs / "ca.pem"))


def test_a_missing_ca_file_is_named(tmp_path):
    with pytest.raises(UserError, match=r"CA file .*nope\.pem: no such file"):  # before: traceback
        sink(f"127.0.0.1:{free_port()}", ca_certs=str(tmp_path / "nope.pem"))


@pytest.mark.parametrize("password", ["wrong", None])
def test_a_refused_login_is_an_immediate_error(secure_broker, password):
    with pytest.raises(UserError) as exc:  # before: 5 "Not authorized" lines, "queueing", rc 0
        sink(secure_broker.address, username=USER if password else None, password=password)
    msg = str(exc.value)
    assert "refused the connection" in msg and "\n" not in msg
    assert "authori" in msg.lower() or "password" in msg.lower()


def test_a_broker_that_is_down_is_reported_at_the_start_and_when_it_comes_back(tmp_path, caplog):
    broker = LocalBroker(workdir=tmp_path / "b")
    with caplog.at_level(logging.WARNING, logger="movecoach.sinks.mqtt"):
        s = MqttSink(broker.address, device_id="foot1", reconnect_delay_s=(0.2, 0.5))
        assert "is not reachable" in caplog.text  # before: only the final "not delivered"
        s.handle(from_dict("rep", 1.0, {**SESSION, "count": 1}))
        broker.start()
        try:
            wait_until(lambda: s.published == 1, timeout_s=15)
            assert "reachable again" in caplog.text
            s.close()
        finally:
            broker.close()


def test_the_password_comes_from_the_environment_or_the_config_file_and_leaks_are_warned(
        tmp_path, caplog):
    cfg = tmp_path / "mqtt.toml"
    cfg.write_text(f'broker = "127.0.0.1:1883"\nusername = "{USER}"\npassword = "{PASSWORD}"\n')
    os.chmod(cfg, 0o600)
    with caplog.at_level(logging.WARNING, logger="movecoach.sinks.mqtt"):
        assert sink_options(config=cfg, env={})["password"] == PASSWORD
        assert caplog.text == ""
        os.chmod(cfg, 0o644)
        load_config(cfg)
        assert "other users can read it: chmod 600" in caplog.text
        caplog.clear()
        assert sink_options(config=cfg, env={"MOVECOACH_MQTT_PASSWORD": "from-env"})["password"] \
            == "from-env"
        assert sink_options(password_flag="typed", env={})["password"] == "typed"
        assert "visible to every user" in caplog.text


def coach(data: Path, csv: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MOVECOACH, "coach", "--source", f"replay:{csv}", "--exercise", "march", "--reps", "2",
         "--speed", "50", "--no-speech", "--no-prompt", "--data-dir", str(data), *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def march_csv(tmp_path_factory) -> Path:
    from movecoach.sim import simulate
    from movecoach.store.csvio import write_csv

    rec = simulate("march", reps=2, fs=104.0, seed=3)
    path = tmp_path_factory.mktemp("rec") / "march.csv"
    write_csv(path, rec.t_s, rec.acc_m_s2, rec.gyr_rad_s)
    return path


def test_coach_with_a_wrong_password_stops_before_the_session_starts(secure_broker, march_csv,
                                                                     tmp_path):
    out = coach(tmp_path / "data", march_csv, "--broker", secure_broker.address,
                "--mqtt-username", USER, env={"MOVECOACH_MQTT_PASSWORD": "wrong"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    [line] = [x for x in out.stderr.splitlines() if x.startswith("movecoach: error:")]
    assert "refused the connection" in line
    assert "Session complete" not in out.stdout
    from movecoach.store import open_store

    with open_store(tmp_path / "data") as store:
        assert store.sessions() == []  # nothing recorded: the session never started


def test_coach_reads_the_default_config_file_under_xdg_config_home(secure_broker, march_csv,
                                                                   tmp_path, certs):
    config_home = tmp_path / "config"
    (config_home / "movecoach").mkdir(parents=True)
    cfg = config_home / "movecoach" / "mqtt.toml"
    cfg.write_text(f'[mqtt]\nbroker = "127.0.0.1:{secure_broker.tls_port}"\n'
                   f'username = "{USER}"\npassword = "{PASSWORD}"\n'
                   f'ca_certs = "{certs / "ca.pem"}"\n')
    os.chmod(cfg, 0o600)
    sub = Subscriber(secure_broker.address, ["movecoach/#"], client_id="dash",
                     username=USER, password=PASSWORD)
    out = coach(tmp_path / "data", march_csv, "--feel", "6", "--note", "knee sore",
                env={"XDG_CONFIG_HOME": str(config_home)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "WARNING" not in out.stderr
    sub.wait_for(lambda s: any(t.endswith("/session") and json.loads(p)["type"] == "session_end"
                               for t, p, _ in s.messages))
    time.sleep(0.3)
    assert [json.loads(p)["count"] for t, p, _ in sub.messages if t.endswith("/rep")] == [1, 2]
    assert "knee sore" not in "".join(p for _, p, _ in sub.messages)  # no --mqtt-notes
    sub.close()


def test_plain_mqtt_to_the_tls_port_is_an_error_with_a_hint(secure_broker):
    with pytest.raises(UserError, match="--mqtt-tls"):
        sink(f"127.0.0.1:{secure_broker.tls_port}", username=USER, password=PASSWORD)
