/// Where a certificate stands in Matter's device attestation PKI (Matter core specification
/// §6.2.2): the Product Attestation Authority (a root), a Product Attestation Intermediate
/// (the CA on the factory line) or a Device Attestation Certificate (one per device).
public enum MatterRole: String, Codable, Sendable, CaseIterable {
    case paa, pai, dac

    var isCA: Bool { self != .dac }

    /// As the specification names it, for messages.
    var title: String {
        switch self {
        case .paa: return "PAA"
        case .pai: return "PAI"
        case .dac: return "DAC"
        }
    }
}
