import Foundation

/// How `iotca batch` runs.
public struct BatchOptions: Sendable {
    public var authority = "issuing"
    public var template = "device"
    /// Templates a row's `template` column may name besides `template`: a batch file cannot
    /// reach for the `server` profile (or any other) unless the command line allows it.
    public var allowedTemplates: Set<String> = []
    public var format: BundleFormat = .dir
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var failFast = false
    /// Rows signed, committed in one transaction and written per chunk.
    public var chunkSize = 500
    public var bundlePassphrase: Passphrase?
    /// A Matter Certification Declaration put in every bundle (matter format).
    public var certificationDeclaration: [UInt8]?

    public init() {}
}
