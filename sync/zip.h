/*
 * zip: zlib deflate/inflate of wire bodies (sync_deflate, sync_inflate in
 * sync.h). Inflate stops as soon as the output passes its size cap or its
 * expansion-ratio cap, so a zip bomb costs at most max_out bytes of memory.
 * No private API: the functions are declared in sync.h.
 */
#ifndef SYNC_ZIP_H
#define SYNC_ZIP_H

#include "sync.h"

#endif
