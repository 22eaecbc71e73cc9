/*
 * sim_rng: the simulator's only sources of chance and time.
 *
 * xoshiro256** seeded through splitmix64 drives every decision; a second
 * stream replaces libsodium's randombytes (so crm_id_new(), and with it the
 * site ids that break HLC ties, are the same on every replay); CRM_NOW points
 * into a static buffer that sim_clock_set() rewrites in place, so moving the
 * clock costs no allocation (setenv() would keep every value forever).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crm_time.h"
#include "sim.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	/* Lemire's multiply-shift would need 128-bit math; rejection is plain. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do {
		x = sim_rng_next(r);
	} while (x >= limit);
	return x % n;
}

int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;

	if (span == 0)
		return (int64_t)sim_rng_next(r);
	return (int64_t)((uint64_t)lo + sim_rng_below(r, span));
}

bool sim_rng_chance(struct sim_rng *r, unsigned per_mille)
{
	return sim_rng_below(r, 1000) < per_mille;
}

/* ---- deterministic libsodium random bytes ----------------------------- */

static struct sim_rng sodium_rng;

static const char *det_name(void)
{
	return "sync-sim deterministic";
}

static uint32_t det_random(void)
{
	return (uint32_t)(sim_rng_next(&sodium_rng) >> 32);
}

static void det_buf(void *const buf, const size_t size)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < size; i += 8) {
		uint64_t x = sim_rng_next(&sodium_rng);
		size_t k = size - i < 8 ? size - i : 8;

		memcpy(p + i, &x, k);
	}
}

static randombytes_implementation det_impl = {
	.implementation_name = det_name,
	.random = det_random,
	.stir = NULL,
	.uniform = NULL,
	.buf = det_buf,
	.close = NULL,
};

void sim_random_install(void)
{
	sim_rng_seed(&sodium_rng, 0);
	randombytes_set_implementation(&det_impl);
}

void sim_random_reseed(uint64_t seed)
{
	sim_rng_seed(&sodium_rng, seed ^ 0x5eed5eed5eed5eedULL);
}

/* ---- the clock -------------------------------------------------------- */

#define CLOCK_PREFIX "CRM_NOW="
static char clock_env[sizeof CLOCK_PREFIX + CRM_TIME_ISO_MAX];

void sim_clock_install(void)
{
	memcpy(clock_env, CLOCK_PREFIX, sizeof CLOCK_PREFIX);
	sim_clock_set(0);
	putenv(clock_env);
}

void sim_clock_set(int64_t ms)
{
	crm_time_format_utc(ms, clock_env + sizeof CLOCK_PREFIX - 1);
}
