import Foundation
import Synchronization
import X509

/// `doctor`'s checks of one certificate row, as the rows stream past: the row against its DER,
/// the signature against its CA, and a bundle never reported written. It remembers nothing per
/// row, so a store of ten million certificates is checked in the memory of one.
struct DoctorCertificateCheck: Sendable {
    /// Each CA's certificate by name.
    let issuers: [String: Certificate]
    /// Bundles recorded before this and never reported written are findings (younger ones may
    /// belong to a batch running now).
    let staleBefore: Date

    /// Rows checked together across the cores.
    static let chunkSize = 2_048

    /// Each entry's findings, in order, checked on every core.
    func findings(_ entries: [CertificateEntry]) -> [[Finding]] {
        let results = Mutex([[Finding]](repeating: [], count: entries.count))
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, entries.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: entries.count, by: workers) {
                let found = findings(entries[index])
                if !found.isEmpty { results.withLock { $0[index] = found } }
            }
        }
        return results.withLock { $0 }
    }

    func findings(_ entry: CertificateEntry) -> [Finding] {
        let name = entry.thing ?? entry.subjectAuthority ?? entry.serial.hex
        var found: [Finding] = []
        func find(_ check: String, _ subject: String, _ problem: String) { found.append(Finding(check: check, subject: subject, problem: problem)) }
        if entry.thing != nil && entry.status == .active && entry.delivery == .recorded && entry.createdAt < staleBefore {
            find("delivery", name, "certificate \(entry.serial.hex) was recorded for \(entry.deliveryTarget ?? "?") at \(Store.timestamp(entry.createdAt)) but its bundle was never reported written: re-run the batch into that output to recover it, or renew the thing superseding it")
        }
        guard let certificate = try? Certificate(derEncoded: entry.der) else {
            find("certificate", name, "serial \(entry.serial.hex): the stored DER does not parse")
            return found
        }
        if SerialNumber(certificate.serialNumber) != entry.serial { find("certificate", name, "serial \(entry.serial.hex): row and DER serials differ") }
        if certificate.notValidAfter != entry.notAfter || certificate.notValidBefore != entry.notBefore {
            find("certificate", name, "serial \(entry.serial.hex): the recorded validity is not the DER's")
        }
        if certificate.subject.description != entry.subject { find("certificate", name, "serial \(entry.serial.hex): the recorded subject is not the DER's") }
        guard let issuer = issuers[entry.authority] else {
            find("certificate", name, "serial \(entry.serial.hex): its CA \(entry.authority) has no certificate")
            return found
        }
        if !issuer.publicKey.isValidSignature(certificate.signature, for: certificate) {
            find("certificate", name, "serial \(entry.serial.hex): the signature does not verify with CA \(entry.authority)'s key")
        }
        return found
    }
}
