// The `strom` command line client (src/cli).
#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // The client builds and sends batches and requests of megabytes each, one after another.
  // glibc would hand the larger ones back to the kernel on free (mmap threshold, heap
  // trimming) and take fresh zeroed pages again for the next: page faults and page clearing
  // were a fifth of `strom perf append`'s CPU. Keeping freed memory in the process makes
  // the next batch reuse pages already mapped; the CLI is short-lived, so what it keeps is
  // bounded by its own peak.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return strom::cli::RunCli(argc, argv);
}
