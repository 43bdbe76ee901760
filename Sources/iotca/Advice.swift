import IoTCAKit

/// What to do about a library error, in this front end's words. The library's messages say
/// what went wrong without naming any flag or command (the service will answer the same
/// errors in HTTP); the CLI adds the flag or command a person can act on here.
enum Advice {
    static func text(for error: any IoTCAError) -> String? {
        switch error {
        case let error as StoreError:
            switch error {
            case .notFound: return "run `iotca init` first, or pass --store DIR / set IOTCA_STORE"
            case .alreadyExists: return "choose another --store"
            case .corruptRow: return "`iotca doctor` lists every corrupt row"
            default: return nil
            }
        case let error as TrustStoreError:
            if case .nextRootUncertified = error { return "run `iotca ca prepare-root`, then export again" }
            return nil
        case is IssuanceConflict:
            return "pass --renew to issue another"
        case let error as OutputError:
            if case .exists = error { return "pass --force, or --renew for a new certificate" }
            return nil
        case is CertificateNotFound:
            return "see `iotca list`"
        case is CRLNotPublished:
            return "or run `iotca crl publish` now"
        case let error as RevocationError:
            switch error {
            case .noActiveCertificate(let thing): return "see `iotca list --thing \(thing)`"
            case .ambiguousSerial: return "pass --ca NAME"
            default: return nil
            }
        case let error as BundleNotWritten:
            return "fix that and run `iotca issue \(error.thing) --renew`"
        case let error as PolicyError:
            switch error {
            case .templateNotFound: return "see `iotca template list`, or pass a path to a JSON file"
            case .missingAttribute(let attribute, _, _): return "pass --attr \(attribute)=VALUE (a column \(attribute) in a batch file)"
            case .bundlePassphraseMissing: return "set IOTCA_BUNDLE_PASSPHRASE or use --bundle-passphrase-file"
            case .templateNotAllowed(let name, _): return "add --allow-template \(name) to allow it"
            default: return nil
            }
        case is BatchBusy:
            return "wait for it to finish, or use another --out"
        case let error as AuthorityError:
            switch error {
            case .notFound(let name) where ServiceHierarchy.isReserved(name):
                return "this store was made before the service had CAs of its own: run `iotca ca create-service`"
            case .notFound: return "see `iotca ca list`"
            case .disabled(let name): return "run `iotca ca enable \(name)`"
            case .pending(let name): return "run `iotca ca import \(name) --cert FILE`"
            case .cannotCertifyCA: return "use --parent root"
            case .nextRootAlreadyCertified: return "run `iotca ca rotate-root` without --validity"
            case .importRejected: return "see `iotca ca import --help`"
            default: return nil
            }
        case let error as KeyError:
            switch error {
            case .wrongPassphrase: return "check IOTCA_PASSPHRASE or --passphrase-file"
            case .passphraseRequired, .noPassphraseSource: return "set IOTCA_PASSPHRASE or use --passphrase-file FILE"
            case .emptyPassphrase, .passphraseTooShort: return "or pass --insecure-no-passphrase for a throwaway store"
            case .storePassphraseTooShort: return "run `iotca passphrase change` first"
            case .noNewPassphraseSource: return "use --new-passphrase-file FILE"
            default: return nil
            }
        case let error as BrokerSetupError:
            switch error {
            case .wouldReplace: return "pass --force to replace them"
            case .serverKeyElsewhere(let thing, _, let folder):
                return "run `iotca issue \(thing) --template server --renew --out \(folder)`, or pass --force"
            default: return nil
            }
        case let error as KeyRollError:
            switch error {
            case .keyFileMissing: return "or pass --new-key to roll to a key no device has pinned"
            case .needsBundleFolder: return "use --format dir (the default)"
            default: return nil
            }
        case let error as PKCS11Error:
            switch error {
            case .pinRequired: return "set IOTCA_PKCS11_PIN or use --pin-file FILE"
            case .call(let function, let code) where function == "C_Login" && code == 0xA0: return "check IOTCA_PKCS11_PIN or --pin-file"
            case .moduleUnavailable: return "check --pkcs11-module"
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The library's message, then the advice.
    static func message(for error: any IoTCAError) -> String {
        text(for: error).map { "\(error.description): \($0)" } ?? error.description
    }
}
