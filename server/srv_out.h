/*
 * srv_out: what crm-server's admin commands print: JSON for --json, and table
 * cells padded to a display width (Chinese characters count double).
 */
#ifndef SRV_OUT_H
#define SRV_OUT_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Prints j indented, with a newline, to stdout (nothing if j is NULL). j stays the caller's. */
void srv_out_json(const cJSON *j);

/* Prints s to stdout followed by spaces up to width display columns. */
void srv_out_padded(const char *s, size_t width);

#endif
