/// The two reads a serving node makes on nearly every request, as PL/pgSQL functions
/// (schema v8, with the facts epoch since v9): a client's standing (every API request) and an
/// issuance's facts (every issuance whose node does not hold them under the current epoch). Sent as plain statements, both are joins over `certificates` and its indexes that
/// PostgreSQL parsed and planned again on every request: a third of the database's CPU under
/// issuance load (`perf record -a` during `iotca-bench shared`). A function's queries are planned
/// once per connection and kept (PostgreSQL plans them again by itself after any change to the
/// tables they read); the statement that calls it is a function scan, cheap to plan.
/// The same rows, columns and order as the plain statements SQLite runs (`Store.issuanceFactsQuery`,
/// `Store.clientStandingQuery`); the shared suite runs both engines.
enum PostgresReads {
    /// Schema v8's functions. Frozen once released: a change is a new migration.
    /// The CA's row is returned whole (`authorities` as a type), so a column a later migration
    /// adds reaches `Authority(row:)` without a new function. The function depends on that type:
    /// a migration that rebuilds the table (new table, copy, rename) must drop
    /// `iotca_issuance_facts` (and v9's) first and create it again after, and v9's triggers.
    static let functionsV8 = """
        CREATE OR REPLACE FUNCTION iotca_issuance_facts(thing_name text, authority_name text)
        RETURNS TABLE (authority authorities, parent_name text, templates_counter text, active_serial text, row_position bigint)
        LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
        BEGIN
            RETURN QUERY SELECT a, p.name, (SELECT s.value FROM settings s WHERE s.key = 'templates_version'), c.serial, c.id
                FROM authorities a LEFT JOIN authorities p ON p.id = a.parent_id
                LEFT JOIN certificates c ON c.thing = thing_name AND c.status = 'active'
                WHERE a.name = authority_name;
        END $$;
        CREATE OR REPLACE FUNCTION iotca_client_standing(serial_hex text)
        RETURNS TABLE (thing text, template text, status text, der bytea, name text, authority_status text,
                       grant_template text, grant_pattern text, held boolean, row_position bigint, grant_order bigint)
        LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
        BEGIN
            RETURN QUERY SELECT c.thing, c.template, c.status, c.der, a.name, a.status, g.template, g.pattern,
                    EXISTS (SELECT 1 FROM cmp_confirmations p WHERE p.certificate_id = c.id), c.id,
                    row_number() OVER (PARTITION BY c.id ORDER BY g.template, g.pattern)
                FROM certificates c JOIN authorities a ON a.id = c.authority_id LEFT JOIN client_grants g ON g.client = c.thing
                WHERE c.serial = serial_hex;
        END $$;
        """

    /// Schema v9: the store's facts epoch, a stamp (in a table of one row, which a store's copy
    /// and its digest leave alone) the database draws anew, at random, in the transaction of
    /// every change to a CA's row (any column, any CA, rows added or removed) and to the
    /// templates' version, by triggers, so no write path of the store can forget it (`FactsEpoch`:
    /// random, so a restored database never matches facts read from another state). The client's
    /// standing returns it on every request; an issuance's facts return the one they were read
    /// under. A node that holds a CA's facts read under the epoch a request's standing read just
    /// now knows nothing in them changed since, and needs no second read (`Store.issuanceFacts`).
    /// The v8 functions stay for nodes of the previous release during an upgrade.
    static let functionsV9 = """
        CREATE TABLE facts_epoch (one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), epoch BIGINT NOT NULL);
        INSERT INTO facts_epoch (epoch) VALUES (floor(random() * 9007199254740991)::bigint);
        CREATE OR REPLACE FUNCTION iotca_draw_facts_epoch() RETURNS trigger
        LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
        BEGIN
            UPDATE facts_epoch SET epoch = floor(random() * 9007199254740991)::bigint;
            RETURN NULL;
        END $$;
        CREATE TRIGGER authorities_draw_facts_epoch AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON authorities
            FOR EACH STATEMENT EXECUTE FUNCTION iotca_draw_facts_epoch();
        CREATE TRIGGER templates_draw_facts_epoch AFTER INSERT OR UPDATE ON settings
            FOR EACH ROW WHEN (NEW.key = 'templates_version') EXECUTE FUNCTION iotca_draw_facts_epoch();
        CREATE TRIGGER templates_removed_draw_facts_epoch AFTER DELETE ON settings
            FOR EACH ROW WHEN (OLD.key = 'templates_version') EXECUTE FUNCTION iotca_draw_facts_epoch();
        CREATE OR REPLACE FUNCTION iotca_issuance_facts_v9(thing_name text, authority_name text)
        RETURNS TABLE (authority authorities, parent_name text, templates_counter text, active_serial text, facts_epoch bigint,
                       row_position bigint)
        LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
        BEGIN
            RETURN QUERY SELECT a, p.name, (SELECT s.value FROM settings s WHERE s.key = 'templates_version'), c.serial,
                    (SELECT e.epoch FROM facts_epoch e), c.id
                FROM authorities a LEFT JOIN authorities p ON p.id = a.parent_id
                LEFT JOIN certificates c ON c.thing = thing_name AND c.status = 'active'
                WHERE a.name = authority_name;
        END $$;
        CREATE OR REPLACE FUNCTION iotca_client_standing_v9(serial_hex text)
        RETURNS TABLE (thing text, template text, status text, der bytea, name text, authority_status text,
                       grant_template text, grant_pattern text, held boolean, facts_epoch bigint, row_position bigint, grant_order bigint)
        LANGUAGE plpgsql STABLE SET search_path FROM CURRENT AS $$
        BEGIN
            RETURN QUERY SELECT c.thing, c.template, c.status, c.der, a.name, a.status, g.template, g.pattern,
                    EXISTS (SELECT 1 FROM cmp_confirmations p WHERE p.certificate_id = c.id),
                    (SELECT e.epoch FROM facts_epoch e), c.id,
                    row_number() OVER (PARTITION BY c.id ORDER BY g.template, g.pattern)
                FROM certificates c JOIN authorities a ON a.id = c.authority_id LEFT JOIN client_grants g ON g.client = c.thing
                WHERE c.serial = serial_hex;
        END $$;
        """

    /// `Store.issuanceFactsQuery` through the function: the CA's columns, then the same three,
    /// then the facts epoch they were read under.
    static let issuanceFacts = """
        SELECT (f.authority).*, f.parent_name, f.templates_counter, f.active_serial, f.facts_epoch
        FROM iotca_issuance_facts_v9(?, ?) f ORDER BY f.row_position
        """

    /// `Store.clientStandingQuery` through the function: the same columns in the same order,
    /// then the facts epoch.
    static let clientStanding = """
        SELECT f.thing, f.template, f.status, f.der, f.name, f.authority_status, f.grant_template, f.grant_pattern, f.held,
            f.facts_epoch
        FROM iotca_client_standing_v9(?) f ORDER BY f.row_position, f.grant_order
        """
}
