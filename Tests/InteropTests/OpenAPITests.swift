import Foundation
@testable import IoTCAKit
import IoTCAService
import Logging
import Testing
import TestSupport

/// `docs/openapi.yaml` against the server: the routes it registers and the document's paths are
/// the same set, and the document is valid OpenAPI 3.1 (openapi-spec-validator from PyPI,
/// installed by `.ci/run`).
@Suite struct OpenAPITests {
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// "METHOD /path" of every operation, split by listener: operations tagged `public` are on the
    /// plain-HTTP listener, the others on the API's, those tagged both on both.
    static func documentedRoutes() throws -> (api: [String], public: [String]) {
        let script = """
            import json, sys, yaml
            document = yaml.safe_load(open(sys.argv[1]))
            routes = {"api": [], "public": []}
            for path, item in document["paths"].items():
                for method, operation in item.items():
                    if method in ("get", "post", "put", "delete", "patch", "head", "options"):
                        tags = operation.get("tags", [])
                        # Tagged public: the plain-HTTP listener; tagged api too (CMP): both.
                        if "public" in tags:
                            routes["public"].append(method.upper() + " " + path)
                        if "api" in tags or "public" not in tags:
                            routes["api"].append(method.upper() + " " + path)
            print(json.dumps(routes))
            """
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", script, document.path])
        #expect(result.succeeded, "\(result.stderr)")
        let routes = try JSONDecoder().decode([String: [String]].self, from: Data(result.stdout.utf8))
        return ((routes["api"] ?? []).sorted(), (routes["public"] ?? []).sorted())
    }

    @Test func theDocumentDescribesEveryRouteTheServerRegistersAndNoOther() async throws {
        let fixture = try TemporaryStore()
        let server = try IoTCAServer(store: fixture.storeURL, passphrase: .fixed(Passphrase(TemporaryStore.passphrase)),
                                     configuration: ServiceConfiguration(), logger: Logger(label: "openapi-test"))
        let registered = try await server.routeTable()
        let documented = try Self.documentedRoutes()
        #expect(Set(registered.api) == Set(documented.api),
                "API routes not documented: \(Set(registered.api).subtracting(documented.api).sorted()); documented, not served: \(Set(documented.api).subtracting(registered.api).sorted())")
        #expect(Set(registered.public) == Set(documented.public),
                "public routes not documented: \(Set(registered.public).subtracting(documented.public).sorted()); documented, not served: \(Set(documented.public).subtracting(registered.public).sorted())")
    }

    @Test func theDocumentIsValidOpenAPI31() throws {
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", """
            import sys, yaml
            from openapi_spec_validator import validate
            from openapi_spec_validator.readers import read_from_filename
            document = yaml.safe_load(open(sys.argv[1]))
            assert document["openapi"].startswith("3.1"), document["openapi"]
            validate(document)
            print("valid")
            """, Self.document.path])
        #expect(result.succeeded && result.stdout.contains("valid"), "\(result.stdout)\(result.stderr)")
    }
}
