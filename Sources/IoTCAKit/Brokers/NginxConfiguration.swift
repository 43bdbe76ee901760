/// nginx configuration for devices with iotca certificates: TLS for MQTT over WebSockets
/// (forwarded to mosquitto's loopback WebSockets listener) and for HTTPS device requests.
/// It goes into the http {} context (e.g. /etc/nginx/conf.d/iotca.conf).
enum NginxConfiguration {
    static func text(_ setup: BrokerSetup, files: BrokerFiles, chainDepth: Int) -> String {
        let name = setup.serverName ?? setup.serverThing
        func listen(_ port: Int) -> String { "listen \(setup.bindAddress.map { "\(Self.bracketed($0)):" } ?? "")\(port) ssl;" }
        let tls = """
                server_name \(name);
                ssl_certificate \(files.serverChain.path);
                ssl_certificate_key \(files.serverKey.path);
                ssl_protocols TLSv1.2 TLSv1.3;
                # Devices must present a certificate that chains to these CAs...
                ssl_client_certificate \(files.caChain.path);
                ssl_verify_client on;
                ssl_verify_depth \(chainDepth);
                # ...and none of the certificates in its chain may be on a CRL. nginx checks the
                # CRL of every CA in the chain (so crl-chain.pem holds them all), reads the file
                # only at start and on reload (reload-crls does both after each publication), and
                # refuses every device once a CRL is past its nextUpdate.
                ssl_crl \(files.crlChain.path);
                # A refused certificate gets 400 before any location runs: nothing is forwarded.
            """
        let https = setup.httpsUpstream.map { upstream in
            """
                    location / {
                        proxy_pass \(upstream);
                        proxy_set_header Host $host;
                        # Verified by nginx above; the application can trust these headers only
                        # if nothing else can reach it.
                        proxy_set_header X-Client-Verify $ssl_client_verify;
                        proxy_set_header X-Client-Subject $ssl_client_s_dn;
                        proxy_set_header X-Client-Serial $ssl_client_serial;
                        proxy_set_header X-Client-Certificate $ssl_client_escaped_cert;
                    }
            """
        } ?? """
                    location / {
                        # No application given: add a proxy_pass to it here.
                        return 404;
                    }
            """
        return """
            # Written by iotca broker-config for the CAs \(setup.authorities.joined(separator: ", ")).
            # Include it in the http {} context, e.g. as /etc/nginx/conf.d/iotca.conf.
            #
            # Why nginx fronts MQTT over WebSockets: mosquitto's WebSockets listener ignores
            # crlfile (mosquitto 2.0, eclipse-mosquitto/mosquitto#3042), so a revoked device would
            # connect over WSS while the MQTT/TLS listener refuses it. nginx checks the device
            # certificate and the CRLs, then forwards the WebSocket to mosquitto on loopback.

            map $http_upgrade $iotca_connection_upgrade {
                default upgrade;
                '' close;
            }

            upstream iotca_mosquitto_websockets {
                server 127.0.0.1:\(setup.websocketsPort);
            }

            # MQTT over WebSockets over TLS (subprotocol mqtt, path /mqtt).
            server {
                \(listen(setup.wssPort))
            \(tls)

                location = /mqtt {
                    proxy_pass http://iotca_mosquitto_websockets;
                    proxy_http_version 1.1;
                    # The Sec-WebSocket-Protocol header (mqtt) passes through unchanged.
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $iotca_connection_upgrade;
                    proxy_set_header Host $host;
                    # Longer than 1.5 x the devices' MQTT keepalive, or idle devices are cut off.
                    proxy_read_timeout 1h;
                    proxy_send_timeout 1h;
                }

                location / {
                    return 404;
                }
            }

            # HTTPS device requests.
            server {
                \(listen(setup.httpsPort))
            \(tls)

                # Which certificate nginx accepted: for checking a device's setup.
                location = /whoami {
                    default_type text/plain;
                    return 200 "$ssl_client_s_dn serial=$ssl_client_serial\\n";
                }

            \(https)
            }

            """
    }

    /// IPv6 literals are bracketed in nginx's listen.
    static func bracketed(_ address: String) -> String { address.contains(":") ? "[\(address)]" : address }
}
