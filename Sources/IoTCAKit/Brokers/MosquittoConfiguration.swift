/// mosquitto.conf for devices with iotca certificates: MQTT over TLS on the MQTT port, and a
/// plain WebSockets listener on loopback that only nginx (which checks the certificate and its
/// CRL) reaches.
enum MosquittoConfiguration {
    static func text(_ setup: BrokerSetup, files: BrokerFiles) -> String {
        let address = setup.bindAddress.map { " \($0)" } ?? ""
        return """
            # Written by iotca broker-config for the CAs \(setup.authorities.joined(separator: ", ")).
            # Include it from /etc/mosquitto/conf.d/ or run mosquitto -c with it. Debian's mosquitto
            # reads its key as the user mosquitto: it must be able to read \(files.serverKey.path)
            # (broker-config's key group option shares it with a group).
            # Each listener has its own settings: the TLS listener requires a certificate, the
            # loopback WebSockets listener trusts nginx, which checked it.
            per_listener_settings true

            # MQTT over TLS: every device presents its iotca certificate; its CN is its MQTT
            # username (for ACLs). mosquitto checks the device's own certificate against the
            # CRL of its issuing CA (not the CAs above it), reads crl-chain.pem only at start
            # and on SIGHUP (reload-crls sends it after each publication), and refuses every
            # device once that CRL is past its nextUpdate: publish before it lapses
            # (crl publish --if-due from cron).
            listener \(setup.mqttPort)\(address)
            protocol mqtt
            cafile \(files.caChain.path)
            certfile \(files.serverChain.path)
            keyfile \(files.serverKey.path)
            crlfile \(files.crlChain.path)
            require_certificate true
            use_identity_as_username true
            tls_version tlsv1.2
            allow_anonymous false

            # MQTT over WebSockets arrives through nginx (nginx.conf), which ends TLS, requires
            # the device certificate and checks the CRLs. mosquitto's own WebSockets TLS listener
            # IGNORES crlfile (mosquitto 2.0, eclipse-mosquitto/mosquitto#3042): a revoked device
            # would connect there. This listener is plain and loopback-only: socket_domain ipv4,
            # because Debian's mosquitto 2.0.11 binds its WebSockets listener to every address
            # otherwise. mosquitto sees no certificate here, so MQTT usernames on this path come
            # from the CONNECT packet, not the certificate: key ACLs on client ids with care.
            listener \(setup.websocketsPort) 127.0.0.1
            socket_domain ipv4
            protocol websockets
            allow_anonymous true

            """
    }
}
