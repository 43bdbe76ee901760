import Foundation

/// A PAA, a PAI and DACs for development, in one step: a throwaway store whose CA keys are not
/// encrypted, named "Matter Test ...", limited to the vendor IDs the CSA reserves for tests
/// (0xFFF1 to 0xFFF4), so nothing made here can pass for a product's attestation.
public enum MatterTestSet {
    public static let testVendorIDs: ClosedRange<UInt16> = 0xFFF1...0xFFF4
    public static let organization = "Matter Test"

    public struct Result: Sendable {
        public let store: URL
        public let bundles: [URL]
    }

    /// A store at `folder/store` and `count` DAC bundles (matter format) in `folder/dacs`,
    /// with a README saying what they are.
    /// - Throws: `PolicyError.outsideMatterProfile` for a vendor ID outside the test range,
    ///   `StoreError.alreadyExists` when `folder/store` exists.
    public static func make(in folder: URL, vendorID: MatterID, productID: MatterID, count: Int,
                            clock: WallClock = .system) throws -> Result {
        guard testVendorIDs.contains(vendorID.value) else {
            throw PolicyError.outsideMatterProfile(rule: "a test set takes a test vendor ID (FFF1 to FFF4), not \(vendorID)")
        }
        guard (1...10_000).contains(count) else { throw PolicyError.invalidValue("count \(count)", reason: "must be 1 to 10000") }
        let storeFolder = folder.appendingPathComponent("store")
        var options = StoreInitializer.Options(organization: organization, passphrase: nil)
        options.matter = MatterIdentity(vendorID: vendorID, productID: productID)
        _ = try StoreInitializer.initialize(at: storeFolder, options: options, clock: clock)
        let authority = try CertificateAuthority(store: storeFolder, passphrase: .fixed(nil), clock: clock)
        defer { try? authority.store.close() }
        let dacs = folder.appendingPathComponent("dacs")
        var bundles: [URL] = []
        for index in 1...count {
            let thing = "matter-test-dac-" + String(format: "%04d", index)
            let result = try authority.issue(IssueRequest(thing: thing, template: "matter-dac"), into: dacs, format: .matter)
            bundles.append(result.folder)
        }
        let readme = """
            TEST ONLY: a Matter attestation PKI for development, made by iotca.
            PAA "Matter Test PAA" and PAI "Matter Test PAI issuing" (vendor ID \(vendorID), product ID \(productID)),
            their keys unencrypted in store/keys. Commissioners accept these DACs only with this PAA
            added to their PAA trust store for tests. Never ship them.

            """
        try AtomicFile.write(readme, to: folder.appendingPathComponent("README.txt"))
        return Result(store: storeFolder, bundles: bundles)
    }
}
