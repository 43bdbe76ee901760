// iotca is built and tested on Linux only: bundles move into place with renameat2(2), batches
// sync with syncfs(2), clean-up reads st_mtim and secrets are cleared with explicit_bzero(3).
// Say so at compile time rather than fail somewhere inside on another system.
#if !os(Linux)
#error("iotca builds on Linux only (Debian 12 is what it is tested on): see the README's set-up")
#endif
