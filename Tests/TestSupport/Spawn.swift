import Foundation

/// Starts a long-running child (a broker, `iotca serve`) that a test stops by PID.
public enum Spawn {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// posix_spawn with an empty signal mask and default handlers: children spawned from the
    /// test runner's worker threads would otherwise inherit a mask that blocks SIGTERM and
    /// SIGHUP, and would never see a reload or a stop. Output goes to the given files (or
    /// /dev/null), stdin is /dev/null; `environment` nil inherits the runner's.
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                             stdout: URL? = nil, stderr: URL? = nil) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGTERM, SIGINT, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        for (descriptor, file) in [(STDOUT_FILENO, stdout), (STDERR_FILENO, stderr)] {
            posix_spawn_file_actions_addopen(&actions, descriptor, file?.path ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let code = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard code == 0 else { throw Failed(description: "\(executable): \(String(cString: strerror(code)))") }
        return pid
    }

    /// Whether `pid`, a child of this process, still runs (a child that exited is reaped).
    public static func isRunning(_ pid: pid_t) -> Bool { pid > 0 && kill(pid, 0) == 0 && waitpid(pid, nil, WNOHANG) == 0 }

    /// Sends `signal` and waits for the child; its exit status, or 128 + the signal that ended it.
    @discardableResult
    public static func stop(_ pid: pid_t, signal: Int32 = SIGTERM) -> Int32 {
        kill(pid, signal)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let terminatedBy = status & 0x7F
        return terminatedBy == 0 ? (status >> 8) & 0xFF : 128 + terminatedBy
    }
}
