// The `strom` command line client (src/cli).
#include "cli/cli.h"

int main(int argc, char** argv) { return strom::cli::RunCli(argc, argv); }
