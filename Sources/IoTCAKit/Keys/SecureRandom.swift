import COpenSSL
import Foundation

/// Random bytes from OpenSSL's CSPRNG (a DRBG per thread, seeded and reseeded from the
/// kernel), as the `openssl` CLI draws its serials. A batch needs two draws per bundle; the
/// kernel's getrandom(2) per draw was a system call each.
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if RAND_bytes(&bytes, Int32(count)) != 1 {
            // OpenSSL could not seed itself: take the kernel's bytes directly.
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = generator.next() }
        }
        return bytes
    }
}
