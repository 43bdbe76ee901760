/// Every advisory lock key a PostgreSQL store takes, in one place: two uses of one key would
/// make unrelated waits depend on each other (a thing named like a key file's lock would wait
/// on a CA's creation, through a session PostgreSQL cannot see as part of a deadlock).
/// One-key locks (bigint) and two-key locks (int, int) are separate spaces in `pg_locks`.
enum PostgresLocks {
    /// The store's write lock: exclusive for every write but issuances, shared by those (one key).
    static let write: Int64 = 0x696f_7463_61  // "iotca"
    /// The audit chain's end, while an issuance function appends its events (one key).
    static let chain: Int64 = 0x696f_7463_62  // "iotcb"
    /// Session locks on key files and batch outputs: (this, hashtext(name)) (two keys).
    static let fileSpace: Int32 = 0x696f_7463  // "iotc"
    /// Transaction locks on things during an issuance: (this, hashtext(thing)) (two keys).
    static let thingSpace: Int32 = 0x696f_7474  // "iott"
}
