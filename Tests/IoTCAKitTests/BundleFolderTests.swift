import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// A batch stages bundles in a private folder it holds a lock on; the next batch's clean-up
/// must remove what killed runs left and nothing a running one is using.
@Suite struct BundleFolderTests {
    @Test func cleanUpSparesLiveStagingAndFreshBundlesAndRemovesAbandonedOnes() throws {
        let temporary = TemporaryFolder()
        let out = temporary.appending("out")
        var live: BundleFolder? = try BundleFolder(out, privateStaging: true)
        let liveStaging = try #require(live?.staging(0).path)
        #expect(liveStaging.hasPrefix(out.path + "/" + BundleFolder.stagingPrefix))
        let otherWorker = try #require(live?.staging(1).path)
        #expect(otherWorker != liveStaging)
        let files = FileManager.default
        // A killed batch's staging folder: nobody holds its lock.
        let dead = out.appendingPathComponent(BundleFolder.stagingPrefix + "0123456789ab-0")
        try files.createDirectory(at: dead.appendingPathComponent(".d-1.tmp-1"), withIntermediateDirectories: true)
        // A single bundle being staged right now, and one a killed `issue` left an hour ago.
        let fresh = out.appendingPathComponent(".d-2.tmp-a1b2c3d4e5f6")
        let old = out.appendingPathComponent(".d-3.old-a1b2c3d4e5f6")
        let oldFile = out.appendingPathComponent(".d-5.p12.tmp-a1b2c3d4e5f6")
        // The user's own dot-files, however close to iotca's names: never touched.
        let foreign = [".git", ".notes.tmp-draft", ".backup.old-1", ".d-6.tmp-A1B2C3D4E5F6", ".iotca-staging.tmp-mine",
                       ".d-7.tmp-a1b2c3d4e5f6x", "..tmp-a1b2c3d4e5f6"].map { out.appendingPathComponent($0) }
        try files.createDirectory(at: fresh, withIntermediateDirectories: true)
        try files.createDirectory(at: old, withIntermediateDirectories: true)
        try files.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: old.path)
        try Data("x".utf8).write(to: oldFile)
        try files.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: oldFile.path)
        for url in foreign {
            try files.createDirectory(at: url, withIntermediateDirectories: true)
            try files.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86_400)], ofItemAtPath: url.path)
        }
        let bundle = out.appendingPathComponent("d-4")
        try files.createDirectory(at: bundle, withIntermediateDirectories: true)

        BundleFolder.removeAbandonedStaging(in: out, now: Date())
        #expect(files.fileExists(atPath: liveStaging))
        #expect(files.fileExists(atPath: otherWorker))
        #expect(!files.fileExists(atPath: dead.path))
        #expect(files.fileExists(atPath: fresh.path))
        #expect(!files.fileExists(atPath: old.path))
        #expect(!files.fileExists(atPath: oldFile.path))
        for url in foreign { #expect(files.fileExists(atPath: url.path), "\(url.lastPathComponent) was removed") }
        #expect(files.fileExists(atPath: bundle.path))

        // Released, the batch removes its own staging folder.
        live = nil
        #expect(!files.fileExists(atPath: liveStaging))
        #expect(!files.fileExists(atPath: otherWorker))
    }
}
