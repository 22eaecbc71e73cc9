/*
 * hlc: hybrid logical clock arithmetic (48-bit milliseconds, 16-bit counter).
 *
 * Pure functions over a last-issued value and a physical time, so they can be
 * tested without a database; struct sync_db keeps the state and reads the
 * physical time through crm_now_ms() (so CRM_NOW moves it).
 */
#ifndef SYNC_HLC_H
#define SYNC_HLC_H

#include <stdint.h>

#include "sync.h"

/* Largest physical time an HLC can carry (48 bits of ms). */
#define HLC_MS_MAX ((int64_t)0xffffffffffff)

/* Builds an HLC from milliseconds and counter. */
sync_hlc hlc_make(int64_t ms, uint16_t counter);

/*
 * The next HLC after last at physical time now_ms: now_ms with counter 0 if
 * that is ahead of last, otherwise last + 1 (a full counter carries into the
 * millisecond part, so the clock runs a little ahead rather than repeating).
 */
sync_hlc hlc_tick(sync_hlc last, int64_t now_ms);

/* True if remote is more than max_skew_ms ahead of now_ms. */
int hlc_too_far(sync_hlc remote, int64_t now_ms, int64_t max_skew_ms);

#endif
