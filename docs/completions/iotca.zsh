#compdef iotca

__iotca_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__iotca_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __iotca_complete "${completions[@]:0:-1}"
    fi
}

__iotca_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_iotca() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'init:Create a store with a root CA `root` and an issuing CA `issuing` signed by it, and the service'\''s own CAs `service-root` and `service`.'
            'issue:Issue a certificate to a thing and write its bundle to OUT/THING/.'
            'batch:Provision every thing listed in a CSV or JSON Lines file, in one process on all cores.'
            'revoke:Revoke a certificate (by serial) or a thing'\''s active certificates, and publish the issuer'\''s CRL.'
            'crl:Publish and show certificate revocation lists.'
            'list:List the certificates issued to things.'
            'show:Show one certificate, by serial (hex) or by thing (its newest).'
            'ca:Create, import, list and disable certificate authorities.'
            'passphrase:Manage the passphrase that protects the store'\''s CA keys.'
            'pins:Print the SPKI SHA-256 pins and fingerprints of the CAs, and the standby root keys'\'' backup pins.'
            'trust-store:Write the trust anchors firmware compiles in: the roots, then the next root certified in advance.'
            'aws:Take a CA of the store to AWS IoT Core.'
            'template:List, show, add and remove certificate templates.'
            'doctor:Check the store: certificates against their DER and CA signatures, CRLs, the audit hash chain, file modes, bundles.'
            'audit:Report every issued and revoked certificate (like ACM PCA'\''s audit report) and the verified event log.'
            'serve:Run the CA as a network service: a mutual-TLS API (with EST and CMP for devices) and a public HTTP listener for CRLs, CA certificates, OCSP and CMP.'
            'broker-config:Write mosquitto and nginx configurations that let in the CA'\''s devices and refuse revoked ones.'
            'station:Factory stations: clients of `iotca serve` that issue within their grants.'
            'operator:Operators: clients of `iotca serve` that may do everything, revocation included.'
            'enrol-token:Make a one-time secret for a thing to enrol with over EST or CMP (printed once).'
            'claim:Claim certificates: shared by a batch of devices, they may only enrol them over EST or CMP.'
            'thing:What an operator decides about one thing.'
            'store:Move a store between engines; give a store'\''s free space back.'
            'matter:Matter device attestation: revocation sets for commissioners, and a test PAA, PAI and DACs.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        init|issue|batch|revoke|crl|list|show|ca|passphrase|pins|trust-store|aws|template|doctor|audit|serve|broker-config|station|operator|enrol-token|claim|thing|store|matter|help)
            "_iotca_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_init() {
    local -i ret=1
    local -ar ___key_type=('ec-p256' 'ec-p384' 'ed25519' 'rsa-2048' 'rsa-3072' 'rsa-4096')
    local -ar ___profile=('standard' 'matter')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--org[Organization (O) in CA and device subjects.]:org:'
        '--key-type[CA key type\: ec-p256|ec-p384|ed25519|rsa-2048|rsa-3072|rsa-4096.]:TYPE:{__iotca_complete "${___key_type[@]}"}'
        '--root-validity[Root CA validity (default from the root-ca template\: 20y).]:DURATION:'
        '--issuing-validity[Issuing CA validity (default from the subordinate-ca template\: 10y).]:DURATION:'
        '--crl-validity[How long each CRL is valid (default 7d).]:DURATION:'
        '--public-url[Where STORE/public will be served, e.g. http\://pki.example.com\: certificates then carry BASE/CA.crl as CRL distribution point and BASE/CA.crt as CA issuers URL.]:BASE-URL:'
        '--profile[standard (root and issuing CA), or matter\: the root is a Matter PAA and the issuing CA a PAI (--vid, --pid).]:PROFILE:{__iotca_complete "${___profile[@]}"}'
        '--vid[Matter vendor ID, four hex digits (e.g. FFF1)\: for the matter-* templates.]:VID:'
        '--pid[Matter product ID, four hex digits (e.g. 8000)\: for matter-pai and matter-dac.]:PID:'
        '--insecure-no-passphrase[Store CA keys unencrypted (tests and throwaway stores only).]'
        '--pkcs11[Make the CA keys in this token (RFC 7512\: pkcs11\:token=LABEL; with object= or id=, use that existing key).]:URI:'
        '--pkcs11-module[The token'\''s PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).]:PATH:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_issue() {
    local -i ret=1
    local -ar ___format=('dir' 'pem' 'p12' 'zip' 'matter' 'json' 'jsonl')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':thing:'
        '--ca[The issuing CA.]:ca:'
        '--template[A template name or the path of a template JSON file.]:NAME|PATH:'
        '--validity[Validity, e.g. 90d (default\: the template'\''s, clipped to the CA'\''s).]:DURATION:'
        '*--san[Extra subject alternative name\: dns\:NAME, ip\:ADDR, uri\:URI, email\:ADDR.]:TYPE\:VALUE:'
        '*--attr[Thing attribute for templates ({{attr.KEY}}).]:KEY=VALUE:'
        '--vid[Matter vendor ID, four hex digits (e.g. FFF1)\: for the matter-* templates.]:VID:'
        '--pid[Matter product ID, four hex digits (e.g. 8000)\: for matter-pai and matter-dac.]:PID:'
        '--cd[A Matter Certification Declaration (DER, as chip-cert gen-cd writes it) copied into each bundle as cd.der (--format matter).]:FILE:'
        '--csr[Certify the key of this PKCS#10 request (PEM or DER) instead of generating one.]:FILE:'
        '--out[Folder the bundle is written into.]:DIR:'
        '--format[dir (OUT/THING/), pem (OUT/THING.pem), p12 (OUT/THING.p12), zip (OUT/THING.zip), json (stdout) or matter (OUT/THING/ with DER files for Matter factory tools).]:FORMAT:{__iotca_complete "${___format[@]}"}'
        '--bundle-passphrase-file[PKCS#12 passphrase from the first line of FILE (else $IOTCA_BUNDLE_PASSPHRASE).]:FILE:'
        '--renew[Issue although the thing has an active certificate; replaces its bundle folder.]'
        '--supersede[With --renew\: revoke the thing'\''s previous certificates (reason superseded) once the new one is recorded.]'
        '--keep-key[With --renew\: certify the key of the bundle being renewed (OUT/THING/key.pem); its pin stays.]'
        '--new-key[With --renew\: a fresh key even when the last bundle prepared one (next-key.pem) that clients may pin.]'
        '--force[Replace an existing bundle folder.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_batch() {
    local -i ret=1
    local -ar ___format=('dir' 'pem' 'p12' 'zip' 'matter' 'json' 'jsonl')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':FILE:'
        '--out[Folder the bundles are written into (for jsonl a file, or - for standard output).]:DIR:'
        '--format[dir, pem, p12, zip, matter (DER files for Matter factory tools), or jsonl (one JSON object per bundle and line).]:FORMAT:{__iotca_complete "${___format[@]}"}'
        '--jobs[Worker threads for key generation, signing and files (default\: the number of cores); with --server, requests in flight (default 8).]:jobs:'
        '--fail-fast[Stop at the first bad row.]'
        '--ca[The issuing CA.]:ca:'
        '--template[Template for rows without a template column.]:NAME|PATH:'
        '*--allow-template[Another template a row'\''s template column may name (repeatable); rows naming any other are refused.]:NAME:'
        '--bundle-passphrase-file[PKCS#12 passphrase from the first line of FILE (else $IOTCA_BUNDLE_PASSPHRASE).]:FILE:'
        '--cd[A Matter Certification Declaration (DER, as chip-cert gen-cd writes it) copied into each bundle as cd.der (--format matter).]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_revoke() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':SERIAL:'
        '--thing[Revoke every active certificate of this thing.]:thing:'
        '--ca[The CA that issued SERIAL, when several did.]:NAME:'
        '--reason[RFC 5280 reason\: unspecified, key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation, privilege-withdrawn, aa-compromise.]:REASON:'
        '--invalidity-date[When the key is known or suspected to have been compromised (RFC 3339, e.g. 2026-11-20T08\:00\:00Z).]:TIME:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_crl() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'publish:Generate CRLs into STORE/public/NAME.crl (DER) and NAME.crl.pem.'
            'show:Show the latest CRL of each CA (or of --ca) and what it lists.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        publish|show)
            "_iotca_crl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_crl_publish() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '*--ca[Only this CA (repeatable).]:NAME:'
        '--all[Every CA (the default when no --ca is given).]'
        '--if-due[Only regenerate a CRL past half its validity or with revocations it does not list yet.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_crl_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--ca[Only this CA.]:NAME:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_list() {
    local -i ret=1
    local -ar ___format=('table' 'json' 'jsonl')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--thing[Only this thing'\''s certificates.]:thing:'
        '--status[active or revoked.]:STATUS:'
        '--ca[Only certificates issued by this CA.]:ca:'
        '--template[Only certificates of this template.]:template:'
        '--expiring-within[Only active certificates that expire within DURATION, e.g. 30d.]:DURATION:'
        '--format[table, json (an array) or jsonl (one object a line); --json is json.]:FORMAT:{__iotca_complete "${___format[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':SERIAL|THING:'
        '--pem[Print the certificate in PEM only.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Create a CA signed by another CA of the store (--parent), or an external one (--external --csr-out).'
            'create-service:Create the service'\''s own CAs (service-root, service) in a store made before init made them.'
            'import:Give an external CA the certificate its issuer signed.'
            'list:List the CAs of the store.'
            'show:Show one CA.'
            'set:Change a CA'\''s CRL validity, CRL URL, CA issuers URL and OCSP URL.'
            'disable:Stop a CA from issuing (its certificates stay valid).'
            'enable:Let a disabled CA issue again.'
            'rotate-root:Certify the standby root key as a new root (root-2, ...) and make the next standby key.'
            'prepare-root:Certify the standby root key now, so firmware can trust the next root before the rotation.'
            'verification-cert:Write the verification certificate AWS IoT'\''s RegisterCACertificate asks for (CN = the registration code).'
            'move-key:Move a CA'\''s key file into a PKCS#11 token (sensitive, never extractable); the file is deleted after a verified test signature.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|create-service|import|list|show|set|disable|enable|rotate-root|prepare-root|verification-cert|move-key)
            "_iotca_ca_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_ca_create() {
    local -i ret=1
    local -ar ___key_type=('ec-p256' 'ec-p384' 'ed25519' 'rsa-2048' 'rsa-3072' 'rsa-4096')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--parent[The CA of this store that signs the new CA (it needs a path length above 0, e.g. root).]:parent:'
        '--external[The new CA will be certified outside this store\: write a CSR and wait for `ca import`.]'
        '--csr-out[Where --external writes the CSR (PEM).]:FILE:'
        '--key-type[Key type\: ec-p256|ec-p384|ed25519|rsa-2048|rsa-3072|rsa-4096 (default\: the parent'\''s, or ec-p256).]:TYPE:{__iotca_complete "${___key_type[@]}"}'
        '--validity[Validity (default from the template, clipped to the parent'\''s).]:DURATION:'
        '--template[A CA template name or path.]:NAME|PATH:'
        '--crl-validity[How long each CRL of the CA is valid (default 7d).]:DURATION:'
        '--crl-url[CRL distribution point put in certificates the CA issues; "" removes it.]:URL:'
        '--ca-issuers-url[CA issuers URL (authorityInformationAccess) put in certificates the CA issues; "" removes it.]:URL:'
        '--ocsp-url[OCSP responder (authorityInformationAccess) put in certificates the CA issues; "" removes it.]:URL:'
        '--on-publish[Shell command run after each new CRL of the CA is written (IOTCA_CA, IOTCA_CRL_DER, IOTCA_CRL_PEM set), e.g. a broker'\''s reload; "" removes it.]:COMMAND:'
        '--pkcs11[Make the CA keys in this token (RFC 7512\: pkcs11\:token=LABEL; with object= or id=, use that existing key).]:URI:'
        '--pkcs11-module[The token'\''s PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).]:PATH:'
        '--vid[Matter vendor ID, four hex digits (e.g. FFF1)\: for the matter-* templates.]:VID:'
        '--pid[Matter product ID, four hex digits (e.g. 8000)\: for matter-pai and matter-dac.]:PID:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_create-service() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_import() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--cert[The CA'\''s certificate (PEM or DER).]:FILE:'
        '--chain[The issuer certificates up to the root, PEM, leaf first.]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--pem[Print the CA certificate in PEM only (the CSR for a pending CA).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_set() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--crl-validity[How long each CRL of the CA is valid (default 7d).]:DURATION:'
        '--crl-url[CRL distribution point put in certificates the CA issues; "" removes it.]:URL:'
        '--ca-issuers-url[CA issuers URL (authorityInformationAccess) put in certificates the CA issues; "" removes it.]:URL:'
        '--ocsp-url[OCSP responder (authorityInformationAccess) put in certificates the CA issues; "" removes it.]:URL:'
        '--on-publish[Shell command run after each new CRL of the CA is written (IOTCA_CA, IOTCA_CRL_DER, IOTCA_CRL_PEM set), e.g. a broker'\''s reload; "" removes it.]:COMMAND:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_disable() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_enable() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_rotate-root() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--validity[Validity of the new root (default from the root-ca template\: 20y).]:DURATION:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_prepare-root() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_verification-cert() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--ca[The CA to register with AWS IoT.]:ca:'
        '--code[The code from `aws iot get-registration-code`.]:REGISTRATION_CODE:'
        '--out[Where to write the certificate (PEM).]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_ca_move-key() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--to[The token (RFC 7512), e.g. pkcs11\:token=LABEL.]:URI:'
        '--pkcs11-module[The token'\''s PKCS#11 library.]:PATH:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_passphrase() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'change:Re-encrypt every CA and standby key under a new passphrase (and the current key-file protection).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        change)
            "_iotca_passphrase_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_passphrase_change() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--new-passphrase-file[Read the new passphrase from the first line of FILE.]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_pins() {
    local -i ret=1
    local -ar ___format=('text' 'json' 'c' 'curl' 'hpkp')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--server[Work through an iotca server instead of a local store (default\: $IOTCA_SERVER).]:URL:'
        '--client-cert[The client certificate (a station'\''s or operator'\''s cert.pem; default\: $IOTCA_CLIENT_CERT).]:FILE:'
        '--client-key[Its private key (default\: $IOTCA_CLIENT_KEY).]:FILE:'
        '--server-ca[The CA certificate the server'\''s certificate chains to\: the store'\''s root.pem (default\: $IOTCA_SERVER_CA).]:FILE:'
        '*--ca[A CA whose chain to pin (repeatable; default\: every CA).]:NAME:'
        '*--thing[A server thing whose own key to pin, with its prepared next key as the backup (repeatable).]:THING:'
        '--format[text, json, c, curl or hpkp.]:FORMAT:{__iotca_complete "${___format[@]}"}'
        '--json[Same as --format json.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_trust-store() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--format[pem, c, esp-crt-bundle or zephyr.]:FORMAT:'
        '*--ca[Another CA to trust as well (repeatable), e.g. service-root for EST clients.]:NAME:'
        '--idf-version[The ESP-IDF version the bundle is for (its layout changed in v5.4).]:VERSION:'
        '--out[The file to write (a folder for zephyr).]:PATH:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_aws() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'export:Write the AWS CLI inputs that register the CA, provision its devices just in time, register issued certificates and revoke there.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        export)
            "_iotca_aws_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_aws_export() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--out[The folder to write.]:DIR:'
        '--ca[The CA to register.]:ca:'
        '--registration-code[The code from `aws iot get-registration-code`\: adds a verification certificate.]:CODE:'
        '--sni-only[Register in SNI_ONLY mode (no verification certificate; devices must send SNI).]'
        '--role-arn[The IAM role AWS IoT provisions with\: adds the JITP registration config.]:ARN:'
        '--policy-name[An existing AWS IoT policy to attach to provisioned certificates.]:NAME:'
        '--template[The template of the devices JITP provisions.]:NAME:'
        '--things[A file of thing names, one per line, to register.]:FILE:'
        '--all[Register every thing'\''s active certificate from the CA.]'
        '*--thing[A thing to register (repeatable).]:THING:'
        '--revocations[Write update-certificate inputs for the certificates revoked since the last export.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_template() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List the templates: the store'\''s templates/ folder, then the built-in ones.'
            'show:Print a template as JSON (copy it into STORE/templates/ to make your own).'
            'add:Make a template file the store'\''s own, under the name it gives (on a PostgreSQL store, every node then has it).'
            'remove:Remove one of the store'\''s own templates (a built-in one of that name is used again).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|show|add|remove)
            "_iotca_template_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_template_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_template_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        ':NAME|PATH:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_template_add() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        ':FILE:'
        '--replace[Replace the store'\''s template of the same name.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_template_remove() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        ':NAME:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_doctor() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--bundles[Also check that every bundle folder here belongs to a recorded certificate.]:DIR:'
        '--sample[Check about N certificates picked at random instead of all (a quick look at a huge store); CRLs, the audit log and keys are checked in full.]:N:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_audit() {
    local -i ret=1
    local -ar ___format=('csv' 'json' 'jsonl')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--format[csv, json or jsonl.]:FORMAT:{__iotca_complete "${___format[@]}"}'
        '--since[Only what happened at or after TIME (RFC 3339).]:TIME:'
        '--events[With csv or jsonl\: print the event log instead of the certificates.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_serve() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--api-listen[The mutual-TLS API listener (default 127.0.0.1\:8443).]:HOST\:PORT:'
        '--public-listen[The plain-HTTP listener for CRLs, CA certificates, OCSP, CMP, /healthz, /metrics (default 127.0.0.1\:8080).]:HOST\:PORT:'
        '--config[A JSON configuration file; options given here override it.]:FILE:'
        '--tls-cert[The API'\''s certificate chain (PEM, leaf first); default\: a server certificate of the store'\''s CA.]:FILE:'
        '--tls-key[The API certificate'\''s private key (PEM).]:FILE:'
        '--server-name[The DNS name of the server certificate made from the store'\''s CA (default localhost).]:NAME:'
        '--workers[Worker threads for signing and the store (default\: four per core).]:N:'
        '--log-level[Log level\: trace, debug, info, notice, warning, error, critical.]:LEVEL:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_broker-config() {
    local -i ret=1
    local -ar _SERVER=('mosquitto' 'nginx')
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '*:SERVER:{__iotca_complete "${_SERVER[@]}"}'
        '--out[The folder the files are written into.]:DIR:'
        '--server-thing[The thing whose server certificate the servers present (issued into DIR/NAME/ unless there).]:NAME:'
        '*--san[More names for the server certificate\: dns\:NAME, ip\:ADDR.]:TYPE\:VALUE:'
        '*--ca[A CA whose devices may connect (repeatable; default issuing). Its parents are trusted and CRL-checked too.]:CA:'
        '--server-ca[The CA that issues the server certificate.]:CA:'
        '--bind[Listen on this address only (default\: every address).]:ADDRESS:'
        '--mqtt-port[MQTT over TLS port (mosquitto).]:mqtt-port:'
        '--wss-port[MQTT over WebSockets over TLS port (nginx).]:wss-port:'
        '--https-port[HTTPS device request port (nginx).]:https-port:'
        '--websockets-port[mosquitto'\''s loopback-only plain WebSockets port that nginx forwards to.]:websockets-port:'
        '--server-name[nginx server_name (default\: the server thing'\''s name).]:NAME:'
        '--https-upstream[Where nginx forwards HTTPS device requests, e.g. http\://127.0.0.1\:8080.]:URL:'
        '--mosquitto-reload[How mosquitto is made to re-read its CRL file.]:COMMAND:'
        '--nginx-reload[How nginx is made to re-read its CRL file.]:COMMAND:'
        '--key-group[A group that may read the server'\''s key (Debian'\''s mosquitto reads it as the user mosquitto\: --key-group mosquitto).]:GROUP:'
        '--set-on-publish[Set every CA'\''s on-publish command to DIR/reload-crls, so each new CRL reaches the servers.]'
        '--force[Replace files with other contents and existing on-publish commands.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_station() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Issue a station'\''s client bundle (cert.pem, key.pem, chain.pem, root.pem) and record its grants.'
            'grant:Replace a station'\''s grants (takes effect on its next request).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create|grant)
            "_iotca_station_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_station_create() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '*--grant[What it may issue\: TEMPLATE, or TEMPLATE\:PATTERN with * and ? (repeatable).]:TEMPLATE\[\:PATTERN\]:'
        '--ca[The CA that issues the client certificate (the service'\''s own).]:CA:'
        '--out[Folder for the bundle (written to DIR/NAME/).]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_station_grant() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        ':name:'
        '*--grant[TEMPLATE or TEMPLATE\:PATTERN (repeatable; none leaves it nothing).]:TEMPLATE\[\:PATTERN\]:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_operator() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Issue an operator'\''s client bundle (cert.pem, key.pem, chain.pem, root.pem).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create)
            "_iotca_operator_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_operator_create() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '--ca[The CA that issues the client certificate (the service'\''s own).]:CA:'
        '--out[Folder for the bundle (written to DIR/NAME/).]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_enrol-token() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':thing:'
        '--template[The template it enrols with.]:NAME:'
        '--expires[How long the secret is good for (default 7d).]:DURATION:'
        '--est-only[Keep only the secret'\''s hash\: the token enrols over EST, not CMP.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_claim() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'create:Issue a claim bundle (cert.pem, key.pem, chain.pem, root.pem) that may enrol the things its grants cover.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        create)
            "_iotca_claim_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_claim_create() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        ':name:'
        '*--grant[What it may enrol\: TEMPLATE or TEMPLATE\:PATTERN with * and ? (repeatable).]:TEMPLATE\[\:PATTERN\]:'
        '--ca[The CA that issues the claim certificate (the service'\''s own).]:CA:'
        '--out[Folder for the bundle (written to DIR/NAME/).]:DIR:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_thing() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'reopen:Let a claim enrol THING once more although it has had certificates (claims enrol only new things), audited.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        reopen)
            "_iotca_thing_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_thing_reopen() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        ':thing:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_store() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'migrate:Copy a folder store into an empty PostgreSQL database, in one transaction, and verify the copy.'
            'compact:Give the pages of deleted rows back to the file system (SQLite'\''s VACUUM).'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        migrate|compact)
            "_iotca_store_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_store_migrate() {
    local -i ret=1
    local -ar arg_specs=(
        '--from[The folder store to copy (it is only read).]:DIR:'
        '--to[The empty database\: postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\].]:URL:'
        '--db-password-file[The database password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[This node'\''s folder, where the public files are copied (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--json[Print JSON for scripts instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_store_compact() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--json[Print JSON for scripts instead of text.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_matter() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'revocation-set:Write the revocation set (JSON) of a PAA'\''s or PAI'\''s newest CRL, as chip-tool --dac-revocation-set-path reads it.'
            'test-set:Make a TEST-ONLY Matter PAA, PAI and DACs in DIR (store/, dacs/THING/, README.txt), with a test vendor ID.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        revocation-set|test-set)
            "_iotca_matter_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_iotca_matter_revocation-set() {
    local -i ret=1
    local -ar arg_specs=(
        '--store[The store\: a folder, or a shared PostgreSQL database postgres\://USER@HOST\[\:PORT\]/DB\[?sslmode=MODE\] (default\: $IOTCA_STORE, else ./ca-store).]:DIR|URL:'
        '--db-password-file[A PostgreSQL store'\''s password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).]:FILE:'
        '--node-dir[With a PostgreSQL store\: this node'\''s folder, for its copies of the public files and the service'\''s TLS files (default\: $IOTCA_NODE_DIR, else ./iotca-node).]:DIR:'
        '--passphrase-file[Read the CA passphrase from the first line of FILE.]:FILE:'
        '--pin-file[Read the PKCS#11 token'\''s user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).]:FILE:'
        '--ca[The CA whose CRL the set lists (a PAI for revoked DACs, the PAA for revoked PAIs).]:ca:'
        '--out[Where to write the set (- for standard output).]:FILE:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_matter_test-set() {
    local -i ret=1
    local -ar arg_specs=(
        '--out[The folder to make (it must not hold a store).]:DIR:'
        '--vid[Test vendor ID, FFF1 to FFF4.]:VID:'
        '--pid[Product ID of the PAI and its DACs.]:PID:'
        '--count[How many DACs to issue.]:count:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_iotca_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _iotca ]]; then
    _iotca "${@}"
else
    compdef _iotca iotca
fi
