import Foundation

/// A minimal ZIP writer (PKWARE APPNOTE 6.3, "stored" entries, no compression): bundles are a
/// few kilobytes of PEM, and every unzip and every language's standard library reads this.
struct ZipArchive {
    struct Entry {
        var name: String
        var contents: [UInt8]
        var mode: mode_t
    }

    static func make(_ entries: [Entry], modified: Date) -> [UInt8] {
        let (time, date) = dosTimeAndDate(modified)
        var output: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let name = Array(entry.name.utf8)
            let crc = CRC32.checksum(entry.contents)
            let offset = UInt32(output.count)
            // Local file header.
            output.append(le32: 0x0403_4B50)
            output.append(le16: 20)        // version needed: 2.0
            output.append(le16: 0x0800)    // UTF-8 names
            output.append(le16: 0)         // stored
            output.append(le16: time)
            output.append(le16: date)
            output.append(le32: crc)
            output.append(le32: UInt32(entry.contents.count))
            output.append(le32: UInt32(entry.contents.count))
            output.append(le16: UInt16(name.count))
            output.append(le16: 0)
            output.append(contentsOf: name)
            output.append(contentsOf: entry.contents)
            // Central directory header, with Unix permissions so key.pem unzips as 0600.
            central.append(le32: 0x0201_4B50)
            central.append(le16: 0x0314)   // made by: Unix, 2.0
            central.append(le16: 20)
            central.append(le16: 0x0800)
            central.append(le16: 0)
            central.append(le16: time)
            central.append(le16: date)
            central.append(le32: crc)
            central.append(le32: UInt32(entry.contents.count))
            central.append(le32: UInt32(entry.contents.count))
            central.append(le16: UInt16(name.count))
            central.append(le16: 0)        // extra
            central.append(le16: 0)        // comment
            central.append(le16: 0)        // disk
            central.append(le16: 0)        // internal attributes
            central.append(le32: UInt32(0o100000 | UInt32(entry.mode)) << 16)
            central.append(le32: offset)
            central.append(contentsOf: name)
        }
        let centralOffset = UInt32(output.count)
        output.append(contentsOf: central)
        output.append(le32: 0x0605_4B50)
        output.append(le16: 0)
        output.append(le16: 0)
        output.append(le16: UInt16(entries.count))
        output.append(le16: UInt16(entries.count))
        output.append(le32: UInt32(central.count))
        output.append(le32: centralOffset)
        output.append(le16: 0)
        return output
    }

    static func dosTimeAndDate(_ date: Date) -> (UInt16, UInt16) {
        let civil = CivilTime(Int64(date.timeIntervalSince1970))
        let time = UInt16(civil.hour << 11 | civil.minute << 5 | civil.second / 2)
        let day = UInt16(max(0, civil.year - 1980) << 9 | civil.month << 5 | civil.day)
        return (time, day)
    }
}

extension Array where Element == UInt8 {
    mutating func append(le16 value: UInt16) {
        append(UInt8(value & 0xFF))
        append(UInt8(value >> 8))
    }

    mutating func append(le32 value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
}
