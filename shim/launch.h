// SPDX-License-Identifier: Apache-2.0
//
// How berth-shim wants its environment, for the programs that start it.
//
// glibc's per-thread cache and fast bins hold freed chunks that malloc_trim cannot give back:
// scattered among the live ones, they cost an idle shim some 80 KiB of heap. Only tunables turn
// them off, and glibc reads those when a program starts. A shim started without them starts
// itself again with them set; a caller that already passes them (GLIBC_TUNABLES ending with
// BERTH_SHIM_TUNABLES, its own former value in BERTH_SHIM_SAVED_TUNABLES) saves that exec.
// The shim puts the caller's GLIBC_TUNABLES back first thing, so that neither the runtime nor
// the container sees ours.
#ifndef BERTH_SHIM_LAUNCH_H
#define BERTH_SHIM_LAUNCH_H

#define BERTH_SHIM_TUNABLES       "glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0"
#define BERTH_SHIM_SAVED_TUNABLES "BERTH_SHIM_SAVED_GLIBC_TUNABLES"

#endif
