import ArgumentParser
import IoTCAKit

@main
struct IoTCA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iotca",
        abstract: "A private certificate authority and device provisioning tool for IoT fleets.",
        discussion: """
            The store is --store DIR, else $IOTCA_STORE, else ./ca-store. The CA passphrase comes from \
            $IOTCA_PASSPHRASE, --passphrase-file FILE, or a prompt when stdin is a terminal.
            Exit codes: 0 ok, 1 internal, 3 store, 4 passphrase, 5 rejected by policy, 6 CA unavailable, \
            7 conflict, 8 not found, 9 output, 64 usage.
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, IssueCommand.self, BatchCommand.self, RevokeCommand.self, CRLCommand.self, ListCommand.self, ShowCommand.self,
            CACommand.self, PassphraseCommand.self, PinsCommand.self, TrustStoreCommand.self, AWSCommand.self, TemplateCommand.self, DoctorCommand.self, AuditCommand.self,
            ServeCommand.self, BrokerConfigCommand.self, StationCommand.self, OperatorCommand.self, EnrolTokenCommand.self, ClaimCommand.self,
            ThingCommand.self, StoreCommand.self, MatterCommand.self,
        ])
}
