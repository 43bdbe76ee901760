import Foundation

extension Store {
    /// Opens `thing`, which has had certificates, for one enrolment by a claim (`thing reopen`),
    /// with its audit event. Opening it twice keeps one opening.
    func openForClaim(_ thing: String, at now: Date) throws {
        try write { db in
            try db.execute("INSERT INTO claim_openings (thing, created_at) VALUES (?, ?) ON CONFLICT(thing) DO NOTHING",
                           thing, CivilTime.storeText(now))
            try appendEvent(db, action: "thing.reopen", subject: thing)
        }
    }

    /// Spends the opening of `thing`: true when there was one (and now is not).
    func spendClaimOpening(_ thing: String) throws -> Bool {
        try write { db in try db.execute("DELETE FROM claim_openings WHERE thing = ?", thing) == 1 }
    }

    /// Puts back an opening spent by an enrolment that then failed.
    func restoreClaimOpening(_ thing: String, at now: Date) throws {
        try write { db in
            _ = try db.execute("INSERT INTO claim_openings (thing, created_at) VALUES (?, ?) ON CONFLICT(thing) DO NOTHING",
                               thing, CivilTime.storeText(now))
        }
    }
}
