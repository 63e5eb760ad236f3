#pragma once

namespace strom::cli {

/// Runs the `strom` command line (see src/cli/README.md) and returns the process exit code
/// (see exit_codes.h). Writes results to stdout and errors to stderr.
int RunCli(int argc, char** argv);

}  // namespace strom::cli
