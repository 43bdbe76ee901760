#!/usr/bin/env python3
"""One MQTT round trip with paho-mqtt, over TLS or WebSockets over TLS, for the transport tests.

A subscriber (one device) subscribes; a publisher (another device) publishes one message; the
script reports, as one JSON line, whether each connected (and why not) and whether the message
arrived. Exit 0 only when both connected and the message arrived.

Everything runs on this one thread, each client driven by client.loop() in bounded loops: an
SSL socket must not be read by one thread while another writes it, and an error on the socket
(a TLS 1.3 server sends its refusal after the handshake) is reported here rather than printed
by a paho thread.
"""
import argparse, json, ssl, sys, time
import paho.mqtt.client as mqtt


class Connection:
    def __init__(self, args, identity, client_id):
        cert, key = identity.split(",")
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311,
                                  transport="websockets" if args.websockets else "tcp")
        if args.websockets:
            self.client.ws_set_options(path="/mqtt")
        self.client.tls_set(ca_certs=args.cafile, certfile=cert, keyfile=key, cert_reqs=ssl.CERT_REQUIRED)
        self.connected = False
        self.error = None
        self.client.on_connect = self.on_connect

    def on_connect(self, _client, _userdata, _flags, rc):
        if rc == 0:
            self.connected = True
        else:
            self.error = f"CONNACK {rc}"

    def step(self):
        """One turn of the network loop; False once the connection failed."""
        if self.error:
            return False
        try:
            rc = self.client.loop(0.02)
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"
            return False
        if rc != mqtt.MQTT_ERR_SUCCESS:
            self.error = self.error or f"connection lost (rc {rc})"
            return False
        return True

    def open(self, args):
        """None when connected, else why not."""
        try:
            self.client.connect(args.host, args.port, keepalive=10)
        except Exception as error:  # a refused handshake or WebSocket upgrade
            return f"{type(error).__name__}: {error}"
        deadline = time.monotonic() + args.timeout
        while not self.connected and time.monotonic() < deadline:
            if not self.step():
                return self.error
        return None if self.connected else "no CONNACK"

    def close(self):
        try:
            self.client.disconnect()
            self.client.loop(0.02)
        except Exception:
            pass


def run_until(condition, connections, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        for connection in connections:
            connection.step()
    return condition()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--publisher", required=True, help="CERT,KEY")
    parser.add_argument("--subscriber", help="CERT,KEY; omitted: only connect the publisher")
    parser.add_argument("--websockets", action="store_true")
    parser.add_argument("--topic", default="iotca/test")
    parser.add_argument("--timeout", type=float, default=5)
    args = parser.parse_args()

    report = {"publisher": None, "subscriber": None, "received": False}
    state = {"subscribed": False, "received": False}
    subscriber = None
    if args.subscriber:
        subscriber = Connection(args, args.subscriber, "subscriber")
        error = subscriber.open(args)
        report["subscriber"] = error or "connected"
        if error:
            subscriber = None
        else:
            subscriber.client.on_subscribe = lambda *_: state.update(subscribed=True)
            subscriber.client.on_message = lambda _c, _u, message: state.update(received=message.payload == b"reading")
            subscriber.client.subscribe(args.topic, qos=1)
            run_until(lambda: state["subscribed"], [subscriber], args.timeout)
    publisher = Connection(args, args.publisher, "publisher")
    error = publisher.open(args)
    report["publisher"] = error or "connected"
    if error:
        publisher = None
    else:
        info = publisher.client.publish(args.topic, b"reading", qos=1)
        live = [c for c in (publisher, subscriber) if c]
        run_until(lambda: info.is_published() and (subscriber is None or state["received"]), live, args.timeout)
        report["received"] = state["received"]
        publisher.close()
    if subscriber:
        subscriber.close()
    print(json.dumps(report))
    ok = publisher is not None and (not args.subscriber or report["received"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
