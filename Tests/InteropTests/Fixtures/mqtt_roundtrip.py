#!/usr/bin/env python3
"""One MQTT round trip with paho-mqtt, over TLS or WebSockets over TLS, for the transport tests.

A subscriber (one device) subscribes; a publisher (another device) publishes one message; the
script reports, as one JSON line, whether each connected (and why not) and whether the message
arrived. Every wait is bounded. Exit 0 only when both connected and the message arrived.
"""
import argparse, json, ssl, sys, threading
import paho.mqtt.client as mqtt


class Connection:
    """A paho client run by a thread of ours, so an error on its socket (a TLS 1.3 server
    sends its refusal after the handshake) is reported rather than printed by paho's thread."""

    def __init__(self, args, identity, client_id):
        cert, key = identity.split(",")
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311,
                                  transport="websockets" if args.websockets else "tcp")
        if args.websockets:
            self.client.ws_set_options(path="/mqtt")
        self.client.tls_set(ca_certs=args.cafile, certfile=cert, keyfile=key, cert_reqs=ssl.CERT_REQUIRED)
        self.connected = threading.Event()
        self.stopped = threading.Event()
        self.error = None
        self.client.on_connect = self.on_connect
        self.thread = None

    def on_connect(self, _client, _userdata, _flags, rc):
        if rc != 0:
            self.error = f"CONNACK {rc}"
        self.connected.set()

    def run(self):
        while not self.stopped.is_set():
            try:
                rc = self.client.loop(0.05)
            except Exception as error:
                rc, self.error = -1, f"{type(error).__name__}: {error}"
            if rc != 0:
                self.error = self.error or f"connection lost (rc {rc})"
                self.connected.set()
                return

    def open(self, args):
        """None when connected, else why not."""
        try:
            self.client.connect(args.host, args.port, keepalive=10)
        except Exception as error:  # a refused handshake or WebSocket upgrade
            return f"{type(error).__name__}: {error}"
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        if not self.connected.wait(args.timeout):
            self.error = "no CONNACK"
        return self.error

    def close(self):
        self.client.disconnect()
        self.stopped.set()
        if self.thread:
            self.thread.join(2)


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
    received = threading.Event()
    subscriber = publisher = None
    if args.subscriber:
        subscriber = Connection(args, args.subscriber, "subscriber")
        error = subscriber.open(args)
        report["subscriber"] = error or "connected"
        if error:
            subscriber = None
        else:
            subscribed = threading.Event()
            subscriber.client.on_subscribe = lambda *_: subscribed.set()
            subscriber.client.on_message = lambda _c, _u, message: received.set() if message.payload == b"reading" else None
            subscriber.client.subscribe(args.topic, qos=1)
            subscribed.wait(args.timeout)
    publisher = Connection(args, args.publisher, "publisher")
    error = publisher.open(args)
    report["publisher"] = error or "connected"
    if error:
        publisher = None
    else:
        publisher.client.publish(args.topic, b"reading", qos=1).wait_for_publish(args.timeout)
        if subscriber:
            report["received"] = received.wait(args.timeout)
        publisher.close()
    if subscriber:
        subscriber.close()
    print(json.dumps(report))
    ok = publisher is not None and (not args.subscriber or report["received"])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
