/* SPDX-License-Identifier: Apache-2.0
 *
 * docker's multiplexed stream ("stdcopy"): what logs, attach and exec send for a container
 * without a terminal. Each frame is an 8-byte header, then the payload:
 *
 *   [stream][0][0][0][length: big-endian uint32]   stream: 0 stdin, 1 stdout, 2 stderr
 *
 * A container with a terminal has a single raw stream instead, with no headers.
 */
#ifndef BERTH_ENGINE_LOGS_STDCOPY_H
#define BERTH_ENGINE_LOGS_STDCOPY_H

#include <stddef.h>
#include <stdint.h>

#define ENG_STDCOPY_STDIN  0
#define ENG_STDCOPY_STDOUT 1
#define ENG_STDCOPY_STDERR 2

/* Size of a frame's header. */
#define ENG_STDCOPY_HEADER_LEN 8

/* Append data as frames of stream to *buf / *len: one frame, or several when n does not fit a
 * header's 32-bit length. Nothing is appended for n == 0 (docker sends no empty frames). *buf
 * may be NULL or any malloc'd buffer holding *len bytes; it is xrealloc'd, with room kept for
 * the next appends, so appending many small frames costs no copy each. */
void eng_stdcopy_frame(char **buf, size_t *len, int stream, const void *data, size_t n);

/* Append only the header of a frame whose payload of n bytes the caller appends next (with
 * eng_stdcopy_append), for a payload built from pieces without copying it together first. */
void eng_stdcopy_header(char **buf, size_t *len, int stream, uint32_t n);

/* Append n raw bytes (a terminal's stream, or a payload after eng_stdcopy_header), growing
 * *buf as eng_stdcopy_frame does. */
void eng_stdcopy_append(char **buf, size_t *len, const void *data, size_t n);

#endif
