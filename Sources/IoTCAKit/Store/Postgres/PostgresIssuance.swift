import Foundation

/// Issuances recorded on PostgreSQL in one round trip, without the store-wide write lock.
///
/// `iotca_record_issuances_v9` (schema v6's function, with v9's check of each issuance's CA)
/// does what `Store.insertIssuance` does, for a group of
/// issuances, inside the database: on a database in another rack the record's seven statements
/// were seven network round trips, all under the one write lock every node queued on. Here:
/// - the write lock is taken *shared*: issuances run side by side, every other write (a
///   revocation, a CRL, a CA, a grant) still takes it exclusively and so still sees no writer
///   beside it;
/// - each thing is locked (transaction advisory locks, in one order, so two groups never wait on
///   each other in a circle), then its active certificates are checked: two nodes issuing to one
///   thing at once, exactly one wins;
/// - serials are unique by the table's constraint;
/// - the audit chain's end is locked last, only for the events' appends, and released by the
///   commit a few microseconds later: events are appended in chain order and committed in it.
/// The SQL is the same as SQLite's path (the certificate and thing rows, the hash of each event
/// over the previous one's), and `doctor` and the shared suite check both engines alike.
enum PostgresIssuance {
    static let chainLock = PostgresLocks.chain
    static let thingLockSpace = PostgresLocks.thingSpace

    /// Schema v6's function. Frozen once released: a change is a new migration with a new
    /// constant (a database keeps the body its migration created).
    static let functionV6 = """
        CREATE OR REPLACE FUNCTION iotca_record_issuances(items jsonb, write_lock bigint, chain_lock bigint, thing_space integer)
        RETURNS text LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        DECLARE
            item jsonb;
            key integer;
            active text[];
            history jsonb;
            results jsonb := '[]'::jsonb;
            recorded jsonb := '[]'::jsonb;
            head text;
        BEGIN
            -- The chain's end must be read after its lock is held: each statement here takes a new
            -- snapshot only under READ COMMITTED.
            IF current_setting('transaction_isolation') <> 'read committed' THEN
                RAISE EXCEPTION 'iotca_record_issuances needs READ COMMITTED, not %', current_setting('transaction_isolation');
            END IF;
            PERFORM pg_advisory_xact_lock_shared(write_lock);
            FOR key IN SELECT DISTINCT hashtext(value->>'thing') FROM jsonb_array_elements(items) ORDER BY 1 LOOP
                PERFORM pg_advisory_xact_lock(thing_space, key);
            END LOOP;
            FOR item IN SELECT value FROM jsonb_array_elements(items) WITH ORDINALITY ORDER BY ordinality LOOP
                -- A caller limited by grants was checked against the thing's history as read
                -- before this call: if it changed since, the caller's store path checks again.
                IF item ? 'history' THEN
                    SELECT coalesce(jsonb_agg(h.template || E'\\n' || h.name), '[]'::jsonb) INTO history
                        FROM (SELECT DISTINCT c.template, a.name FROM certificates c JOIN authorities a ON a.id = c.authority_id
                              WHERE c.thing = item->>'thing') AS h;
                    IF NOT (history @> (item->'history') AND (item->'history') @> history) THEN
                        results := results || jsonb_build_array(jsonb_build_object('stale', true));
                        CONTINUE;
                    END IF;
                END IF;
                SELECT coalesce(array_agg(serial ORDER BY id), '{}') INTO active
                    FROM certificates WHERE thing = item->>'thing' AND status = 'active';
                IF cardinality(active) > 0 AND NOT (item->>'renew')::boolean THEN
                    results := results || jsonb_build_array(jsonb_build_object('conflict', to_jsonb(active)));
                    CONTINUE;
                END IF;
                INSERT INTO things (name, attributes, created_at, updated_at)
                    VALUES (item->>'thing', item->>'attributes', item->>'created_at', item->>'created_at')
                    ON CONFLICT (name) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at;
                INSERT INTO certificates (serial, authority_id, thing, subject_authority, template, subject, sans,
                        key_algorithm, not_before, not_after, status, der, created_at, delivery, delivery_target)
                    VALUES (item->>'serial', (item->>'authority_id')::bigint, item->>'thing', item->>'subject_authority',
                        item->>'template', item->>'subject', item->>'sans', item->>'key_algorithm', item->>'not_before',
                        item->>'not_after', 'active', decode(item->>'der', 'base64'), item->>'created_at', item->>'delivery',
                        item->>'delivery_target');
                results := results || jsonb_build_array(jsonb_build_object('active', to_jsonb(active)));
                recorded := recorded || jsonb_build_array(item || jsonb_build_object('action',
                    CASE WHEN cardinality(active) > 0 THEN 'certificate.renew' ELSE 'certificate.issue' END));
            END LOOP;
            IF jsonb_array_length(recorded) > 0 THEN
                PERFORM pg_advisory_xact_lock(chain_lock);
                SELECT hash INTO head FROM events ORDER BY id DESC LIMIT 1;
                head := coalesce(head, repeat('0', 64));
                FOR item IN SELECT value FROM jsonb_array_elements(recorded) WITH ORDINALITY ORDER BY ordinality LOOP
                    -- As AuditEvent.hash; a NULL anywhere makes the hash NULL, which the column refuses.
                    head := encode(sha256(convert_to(head || E'\\n' || (item->>'at') || E'\\n' || (item->>'action') || E'\\n'
                        || (item->>'thing') || E'\\n' || (item->>'details'), 'UTF8')), 'hex');
                    INSERT INTO events (at, action, subject, details, hash)
                        VALUES (item->>'at', item->>'action', item->>'thing', item->>'details', head);
                END LOOP;
            END IF;
            RETURN jsonb_build_object('results', results, 'head', head)::text;
        END $$;
        """

    /// Schema v9's function: v6's, and each issuance's CA checked first, under the shared write
    /// lock that `ca disable` and a CA's revocation take exclusively: a CA disabled after a
    /// plan read it (or after a node's kept facts said it was active) records nothing. Derived
    /// from v6's text, which never changes; frozen once released like it.
    static let functionV9 = functionV6
        .replacingOccurrences(of: "FUNCTION iotca_record_issuances(", with: "FUNCTION iotca_record_issuances_v9(")
        .replacingOccurrences(of: "    head text;\n", with: "    head text;\n    ca_status text;\n")
        .replacingOccurrences(of: "'iotca_record_issuances needs", with: "'iotca_record_issuances_v9 needs")
        .replacingOccurrences(of: "FOR item IN SELECT value FROM jsonb_array_elements(items) WITH ORDINALITY ORDER BY ordinality LOOP\n", with: """
            FOR item IN SELECT value FROM jsonb_array_elements(items) WITH ORDINALITY ORDER BY ordinality LOOP
                    ca_status := (SELECT a.status FROM authorities a WHERE a.id = (item->>'authority_id')::bigint);
                    IF ca_status IS DISTINCT FROM 'active' THEN
                        results := results || jsonb_build_array(jsonb_build_object('authority', coalesce(ca_status, 'missing')));
                        CONTINUE;
                    END IF;

            """)

    /// What the function returns for each issuance, in order.
    struct Answer: Decodable {
        struct Result: Decodable {
            var active: [String]?
            var conflict: [String]?
            /// The thing's history changed since a caller limited by grants was checked against it.
            var stale: Bool?
            /// The CA's status when it is not active (v9): nothing recorded.
            var authority: String?
        }
        var results: [Result]
        var head: String?
    }
}

extension Store {
    /// Records a group of issuances in one call. A caller limited by grants is checked against
    /// the thing's history first, and the function records it only if that history is still the
    /// same under the thing's lock; if not (a certificate issued to the name meanwhile), that
    /// issuance is recorded on the exclusive path, which checks again under the write lock.
    func recordOnPostgres(_ group: [GroupCommit.Issuance]) throws -> [GroupCommit.Outcome] {
        var outcomes = [GroupCommit.Outcome?](repeating: nil, count: group.count)
        var sent: [Int] = [], items: [[UInt8]] = []
        for (index, issuance) in group.enumerated() {
            do {
                items.append(try item(issuance))
                sent.append(index)
            } catch let denied as AccessDenied {
                outcomes[index] = .failure(denied)
            }
        }
        var stale: [Int] = []
        if !items.isEmpty {
            var payload: [UInt8] = [UInt8(ascii: "[")]
            for (offset, item) in items.enumerated() {
                if offset > 0 { payload.append(UInt8(ascii: ",")) }
                payload.append(contentsOf: item)
            }
            payload.append(UInt8(ascii: "]"))
            let text = try database.writeOne { db in
                try db.value(String.self, "SELECT iotca_record_issuances_v9(CAST(? AS jsonb), ?, ?, CAST(? AS integer))",
                             String(decoding: payload, as: UTF8.self), PostgresDatabase.writeLock, PostgresIssuance.chainLock,
                             Int64(PostgresIssuance.thingLockSpace))
            }
            guard let text, let answer = try? JSONDecoder().decode(PostgresIssuance.Answer.self, from: Data(text.utf8)),
                  answer.results.count == items.count else {
                throw StoreError.database("the database's issuance function gave no answer for each issuance")
            }
            if let head = answer.head { chainHead.withLock { $0 = head } }
            for (index, result) in zip(sent, answer.results) {
                if let status = result.authority {
                    let name = group[index].entry.authority
                    outcomes[index] = .failure(Authority.Status(rawValue: status)?.refusalToIssue(name) ?? AuthorityError.notFound(name))
                } else if result.stale == true {
                    stale.append(index)
                } else if let conflict = result.conflict {
                    outcomes[index] = .failure(IssuanceConflict(thing: group[index].entry.thing ?? "", activeSerials: conflict))
                } else {
                    outcomes[index] = .success((result.active ?? []).compactMap(SerialNumber.init(hex:)))
                }
            }
        }
        if !stale.isEmpty {
            for (index, outcome) in zip(stale, try recordExclusively(stale.map { group[$0] })) { outcomes[index] = outcome }
        }
        return outcomes.map { $0 ?? .failure(StoreError.database("an issuance of the group was not recorded")) }
    }

    /// One issuance as the function reads it, a JSON object written as bytes (Foundation's
    /// JSONSerialization of a dictionary cost more than the rest of the node's share of the
    /// record); for a caller limited by grants, with the thing's history it was checked
    /// against (refused here with `AccessDenied` when it does not cover it).
    private func item(_ issuance: GroupCommit.Issuance) throws -> [UInt8] {
        let entry = issuance.entry
        guard let thing = entry.thing else { throw StoreError.database("an issuance needs a thing") }
        let authorityID = try cachedAuthorityID(named: entry.authority) {
            try readOne { db in try Self.authorityID(db, named: entry.authority) }
        }
        var details = Self.issuanceDetails(entry)
        if let client = issuance.client { details["client"] = client }
        var item = JSONObjectWriter(capacity: 2 * entry.der.count + 1_024)
        item.text("at", Self.timestamp(entry.createdAt))
        item.text("attributes", CompactJSON.object(issuance.attributes))
        item.json("authority_id", Array(String(authorityID).utf8))
        item.text("created_at", CivilTime.storeText(entry.createdAt))
        item.text("delivery", entry.delivery.rawValue)
        item.textIfPresent("delivery_target", entry.deliveryTarget)
        item.text("der", Data(entry.der).base64EncodedString())
        item.text("details", CompactJSON.object(details))
        if let reach = issuance.reach {
            let history = try readOne { db in try Self.history(db, thing: thing) }
            try Self.requireReach(history, reach, thing: thing, caller: issuance.client)
            item.list("history", history.map { "\($0.template)\n\($0.authority)" })
        }
        item.text("key_algorithm", entry.keyAlgorithm.rawValue)
        item.text("not_after", CivilTime.storeText(entry.notAfter))
        item.text("not_before", CivilTime.storeText(entry.notBefore))
        item.json("renew", Array((issuance.renew ? "true" : "false").utf8))
        item.text("sans", CompactJSON.array(entry.subjectAltNames))
        item.text("serial", entry.serial.hex)
        item.text("subject", entry.subject)
        item.textIfPresent("subject_authority", entry.subjectAuthority)
        item.text("template", entry.template)
        item.text("thing", thing)
        return item.finish()
    }
}
