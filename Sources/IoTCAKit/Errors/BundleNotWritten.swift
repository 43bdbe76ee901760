import Foundation

/// The certificate was recorded, but its bundle could not be written: the operator must know
/// the serial, since the generated key is gone.
public struct BundleNotWritten: IoTCAError {
    public let serial: String
    public let thing: String
    public let cause: OutputError
    public var kind: ErrorKind { cause.kind }

    public init(serial: String, thing: String, cause: OutputError) {
        self.serial = serial
        self.thing = thing
        self.cause = cause
    }
    public var description: String {
        "certificate \(serial) for \(thing) is recorded, but its bundle was not written (\(cause))"
    }
}
