/*
 * match_text: text folding, the region table and string similarities used
 * by the customer matcher (see match.h, docs/dedup.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "match_int.h"

/*
 * Provinces first (parent -1), then cities with their province. Enough for
 * the cities reps sell in; an unknown region is simply not split off.
 */
const struct match__region match__regions[] = {
	/* 0 */ {"中国", "china", -1},
	{"广东", "guangdong", -1},       /* 1 */
	{"浙江", "zhejiang", -1},        /* 2 */
	{"江苏", "jiangsu", -1},         /* 3 */
	{"四川", "sichuan", -1},         /* 4 */
	{"湖北", "hubei", -1},           /* 5 */
	{"陕西", "shaanxi", -1},         /* 6 */
	{"湖南", "hunan", -1},           /* 7 */
	{"河南", "henan", -1},           /* 8 */
	{"山东", "shandong", -1},        /* 9 */
	{"福建", "fujian", -1},          /* 10 */
	{"安徽", "anhui", -1},           /* 11 */
	{"江西", "jiangxi", -1},         /* 12 */
	{"云南", "yunnan", -1},          /* 13 */
	{"贵州", "guizhou", -1},         /* 14 */
	{"广西", "guangxi", -1},         /* 15 */
	{"辽宁", "liaoning", -1},        /* 16 */
	{"黑龙江", "heilongjiang", -1},  /* 17 */
	{"吉林", "jilin", -1},           /* 18 */
	{"河北", "hebei", -1},           /* 19 */
	{"山西", "shanxi", -1},          /* 20 */
	{"内蒙古", "inner mongolia", -1},/* 21 */
	{"甘肃", "gansu", -1},           /* 22 */
	{"新疆", "xinjiang", -1},        /* 23 */
	{"海南", "hainan", -1},          /* 24 */
	{"宁夏", "ningxia", -1},         /* 25 */
	{"青海", "qinghai", -1},         /* 26 */
	{"西藏", "tibet", -1},           /* 27 */
	{"北京", "beijing", -1},         /* 28 municipalities are their own top */
	{"上海", "shanghai", -1},
	{"天津", "tianjin", -1},
	{"重庆", "chongqing", -1},
	{"香港", "hong kong", -1},
	{"澳门", "macau", -1},
	{"台湾", "taiwan", -1},
	{"深圳", "shenzhen", 1},
	{"广州", "guangzhou", 1},
	{"东莞", "dongguan", 1},
	{"佛山", "foshan", 1},
	{"珠海", "zhuhai", 1},
	{"中山", "zhongshan", 1},
	{"惠州", "huizhou", 1},
	{"汕头", "shantou", 1},
	{"杭州", "hangzhou", 2},
	{"宁波", "ningbo", 2},
	{"温州", "wenzhou", 2},
	{"嘉兴", "jiaxing", 2},
	{"绍兴", "shaoxing", 2},
	{"义乌", "yiwu", 2},
	{"南京", "nanjing", 3},
	{"苏州", "suzhou", 3},
	{"无锡", "wuxi", 3},
	{"常州", "changzhou", 3},
	{"南通", "nantong", 3},
	{"扬州", "yangzhou", 3},
	{"成都", "chengdu", 4},
	{"绵阳", "mianyang", 4},
	{"武汉", "wuhan", 5},
	{"宜昌", "yichang", 5},
	{"西安", "xian", 6},
	{"长沙", "changsha", 7},
	{"郑州", "zhengzhou", 8},
	{"洛阳", "luoyang", 8},
	{"济南", "jinan", 9},
	{"青岛", "qingdao", 9},
	{"烟台", "yantai", 9},
	{"厦门", "xiamen", 10},
	{"福州", "fuzhou", 10},
	{"泉州", "quanzhou", 10},
	{"合肥", "hefei", 11},
	{"南昌", "nanchang", 12},
	{"昆明", "kunming", 13},
	{"贵阳", "guiyang", 14},
	{"南宁", "nanning", 15},
	{"沈阳", "shenyang", 16},
	{"大连", "dalian", 16},
	{"哈尔滨", "harbin", 17},
	{"长春", "changchun", 18},
	{"石家庄", "shijiazhuang", 19},
	{"太原", "taiyuan", 20},
	{"呼和浩特", "hohhot", 21},
	{"兰州", "lanzhou", 22},
	{"乌鲁木齐", "urumqi", 23},
	{"海口", "haikou", 24},
	{"三亚", "sanya", 24},
	{"银川", "yinchuan", 25},
	{"西宁", "xining", 26},
	{"拉萨", "lhasa", 27},
	{"台北", "taipei", 34},
	{"台州", "taizhou", 2},
	{"金华", "jinhua", 2},
	{"湖州", "huzhou", 2},
	{"舟山", "zhoushan", 2},
	{"丽水", "lishui", 2},
	{"衢州", "quzhou", 2},
	{"慈溪", "cixi", 2},
	{"余姚", "yuyao", 2},
	{"徐州", "xuzhou", 3},
	{"盐城", "yancheng", 3},
	{"泰州", "taizhou js", 3},
	{"镇江", "zhenjiang", 3},
	{"淮安", "huaian", 3},
	{"连云港", "lianyungang", 3},
	{"宿迁", "suqian", 3},
	{"昆山", "kunshan", 3},
	{"江阴", "jiangyin", 3},
	{"张家港", "zhangjiagang", 3},
	{"常熟", "changshu", 3},
	{"潍坊", "weifang", 9},
	{"临沂", "linyi", 9},
	{"淄博", "zibo", 9},
	{"济宁", "jining", 9},
	{"威海", "weihai", 9},
	{"日照", "rizhao", 9},
	{"泰安", "taian", 9},
	{"德州", "dezhou", 9},
	{"聊城", "liaocheng", 9},
	{"菏泽", "heze", 9},
	{"滨州", "binzhou", 9},
	{"东营", "dongying", 9},
	{"枣庄", "zaozhuang", 9},
	{"莆田", "putian", 10},
	{"漳州", "zhangzhou", 10},
	{"龙岩", "longyan", 10},
	{"三明", "sanming", 10},
	{"南平", "nanping", 10},
	{"宁德", "ningde", 10},
	{"晋江", "jinjiang", 10},
	{"江门", "jiangmen", 1},
	{"湛江", "zhanjiang", 1},
	{"茂名", "maoming", 1},
	{"肇庆", "zhaoqing", 1},
	{"梅州", "meizhou", 1},
	{"汕尾", "shanwei", 1},
	{"河源", "heyuan", 1},
	{"阳江", "yangjiang", 1},
	{"清远", "qingyuan", 1},
	{"潮州", "chaozhou", 1},
	{"揭阳", "jieyang", 1},
	{"云浮", "yunfu", 1},
	{"韶关", "shaoguan", 1},
	{"柳州", "liuzhou", 15},
	{"桂林", "guilin", 15},
	{"北海", "beihai", 15},
	{"芜湖", "wuhu", 11},
	{"蚌埠", "bengbu", 11},
	{"安庆", "anqing", 11},
	{"马鞍山", "maanshan", 11},
	{"阜阳", "fuyang", 11},
	{"九江", "jiujiang", 12},
	{"赣州", "ganzhou", 12},
	{"上饶", "shangrao", 12},
	{"株洲", "zhuzhou", 7},
	{"湘潭", "xiangtan", 7},
	{"岳阳", "yueyang", 7},
	{"衡阳", "hengyang", 7},
	{"常德", "changde", 7},
	{"襄阳", "xiangyang", 5},
	{"荆州", "jingzhou", 5},
	{"十堰", "shiyan", 5},
	{"宜宾", "yibin", 4},
	{"南充", "nanchong", 4},
	{"德阳", "deyang", 4},
	{"泸州", "luzhou", 4},
	{"乐山", "leshan", 4},
	{"遵义", "zunyi", 14},
	{"曲靖", "qujing", 13},
	{"大理", "dali", 13},
	{"丽江", "lijiang", 13},
	{"保定", "baoding", 19},
	{"唐山", "tangshan", 19},
	{"廊坊", "langfang", 19},
	{"邯郸", "handan", 19},
	{"秦皇岛", "qinhuangdao", 19},
	{"沧州", "cangzhou", 19},
	{"大同", "datong", 20},
	{"包头", "baotou", 21},
	{"鄂尔多斯", "ordos", 21},
	{"鞍山", "anshan", 16},
	{"抚顺", "fushun", 16},
	{"锦州", "jinzhou", 16},
	{"营口", "yingkou", 16},
	{"大庆", "daqing", 17},
	{"齐齐哈尔", "qiqihar", 17},
	{"宝鸡", "baoji", 6},
	{"咸阳", "xianyang", 6},
	{"榆林", "yulin", 6},
	{"开封", "kaifeng", 8},
	{"新乡", "xinxiang", 8},
	{"南阳", "nanyang", 8},
	{"许昌", "xuchang", 8},
	{"天水", "tianshui", 22},
	{"克拉玛依", "karamay", 23},
	{"喀什", "kashgar", 23},
	{"伦敦", "london", -1},
	{"纽约", "new york", -1},
	{"新加坡", "singapore", -1},
	{"东京", "tokyo", -1},
	{"首尔", "seoul", -1},
	{"巴黎", "paris", -1},
	{"悉尼", "sydney", -1},
	{"墨尔本", "melbourne", -1},
	{"洛杉矶", "los angeles", -1},
	{"旧金山", "san francisco", -1},
	{"法兰克福", "frankfurt", -1},
	{"多伦多", "toronto", -1},
	{"迪拜", "dubai", -1},
};
const size_t match__nregions = sizeof(match__regions) / sizeof(match__regions[0]);

/* Administrative suffixes that may follow a Chinese region name. */
static const char *const region_suffix[] = {"特别行政区", "维吾尔自治区", "壮族自治区",
					    "回族自治区", "自治区", "省", "市", NULL};

static size_t strip_region_suffix_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; region_suffix[i]; i++) {
		size_t k = strlen(region_suffix[i]);
		if (n >= k && memcmp(s + n - k, region_suffix[i], k) == 0)
			return n - k;
	}
	return n;
}

/*
 * Every name of the region table (Chinese and English) in a hash table,
 * each under the lowest index that has it: what a scan of the table in
 * order finds first. Built once, read-only after (any thread).
 */
#define REGION_TAB 4096 /* power of two, > 2 * 2 * match__nregions */

struct region_slot {
	const char *name; /* NULL: empty */
	size_t len;
	int idx;
};

_Static_assert(sizeof match__regions / sizeof match__regions[0] * 4 < REGION_TAB,
	       "REGION_TAB too small for the region table");

static struct region_slot region_tab[REGION_TAB];
static struct region_slot region_zh_tab[REGION_TAB]; /* the Chinese names alone */
static size_t region_zh_lens[16];                   /* their distinct lengths, longest first */
static size_t region_zh_nlens;
static pthread_once_t region_once = PTHREAD_ONCE_INIT;

static void region_put(struct region_slot *tab, const char *name, int idx)
{
	size_t len = strlen(name), h;

	if (len == 0)
		return;
	h = (size_t)match__hash('R', name, len) & (REGION_TAB - 1);
	while (tab[h].name) {
		if (tab[h].len == len && memcmp(tab[h].name, name, len) == 0)
			return; /* a lower index has it already */
		h = (h + 1) & (REGION_TAB - 1);
	}
	tab[h].name = name;
	tab[h].len = len;
	tab[h].idx = idx;
}

static int region_get(const struct region_slot *tab, const char *s, size_t n)
{
	size_t h = (size_t)match__hash('R', s, n) & (REGION_TAB - 1);

	while (tab[h].name) {
		if (tab[h].len == n && memcmp(tab[h].name, s, n) == 0)
			return tab[h].idx;
		h = (h + 1) & (REGION_TAB - 1);
	}
	return -1;
}

static void region_build(void)
{
	for (size_t i = 0; i < match__nregions; i++) {
		size_t len = strlen(match__regions[i].zh);
		int known = 0;

		region_put(region_tab, match__regions[i].zh, (int)i);
		region_put(region_tab, match__regions[i].en, (int)i);
		region_put(region_zh_tab, match__regions[i].zh, (int)i);
		for (size_t k = 0; k < region_zh_nlens; k++)
			known = known || region_zh_lens[k] == len;
		/* 16 distinct lengths: far more than 2-6 characters of 3 bytes need */
		if (len > 0 && !known && region_zh_nlens < sizeof region_zh_lens / sizeof region_zh_lens[0])
			region_zh_lens[region_zh_nlens++] = len;
	}
	/* longest first (a handful: insertion sort) */
	for (size_t i = 1; i < region_zh_nlens; i++)
		for (size_t j = i; j > 0 && region_zh_lens[j - 1] < region_zh_lens[j]; j--) {
			size_t t = region_zh_lens[j];

			region_zh_lens[j] = region_zh_lens[j - 1];
			region_zh_lens[j - 1] = t;
		}
}

int match__region_zh_prefix(const char *s, size_t *len)
{
	size_t have;

	pthread_once(&region_once, region_build);
	if (region_zh_nlens == 0)
		return -1;
	have = strnlen(s, region_zh_lens[0]);
	for (size_t k = 0; k < region_zh_nlens; k++) {
		int r;

		if (region_zh_lens[k] > have)
			continue;
		r = region_get(region_zh_tab, s, region_zh_lens[k]);
		if (r >= 0) {
			*len = region_zh_lens[k];
			return r;
		}
	}
	return -1;
}

int match__region_lookup(const char *folded)
{
	size_t n;
	const char *s = folded;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0)
		return -1;
	n = strip_region_suffix_len(s, n);
	if (n == 0)
		return -1; /* the scan compared with every name, none of them empty */
	pthread_once(&region_once, region_build);
	return region_get(region_tab, s, n);
}

int match__region_guess(const char *folded, int need_suffix)
{
	uint32_t cp[8];
	size_t n, i;
	int r = match__region_lookup(folded);

	if (r >= 0)
		return r;
	n = match__decode(folded, cp, 8);
	if (n > 0 && cp[n - 1] == 0x5E02) /* 市 */
		n--;
	else if (need_suffix)
		return -1;
	if (n < 2 || n > 3)
		return -1;
	for (i = 0; i < n; i++)
		if (!match__is_cjk(cp[i]))
			return -1;
	/* a city the table does not know: its own id, with no province */
	return (int)(match__nregions + match__hash('r', cp, n * 4) % 20000);
}

int match__region_relation(int a, int b)
{
	int na = (int)match__nregions;

	if (a < 0 || b < 0)
		return 1;
	if (a == b)
		return 2;
	if (a == 0 || b == 0) /* "China" contains every region */
		return 1;
	if (a >= na || b >= na) /* a guessed city: no province known */
		return 0;
	if (match__regions[a].parent == b || match__regions[b].parent == a)
		return 1;
	return 0;
}

int match__is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x20000 && c <= 0x2EBEF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF);
}

static int is_open_bracket(uint32_t c)
{
	return c == '(' || c == '[' || c == '{' || c == 0x3010 || c == 0x3014 ||
	       c == 0x3008 || c == 0x300A || c == 0x3016;
}

static int is_close_bracket(uint32_t c)
{
	return c == ')' || c == ']' || c == '}' || c == 0x3011 || c == 0x3015 ||
	       c == 0x3009 || c == 0x300B || c == 0x3017;
}

/* Appends code point c as UTF-8 at *o (room is checked by the caller). */
static void put_cp(char **o, uint32_t c)
{
	utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)c, (utf8proc_uint8_t *)*o);

	if (k > 0)
		*o += k;
}

/*
 * What utf8proc_map gives for plain ASCII with match__fold's options: NFKC
 * and stripping change nothing below 0x80 and case folding lowers A-Z. NULL
 * when in is not all ASCII (or no memory: then utf8proc_map fails the same).
 */
static utf8proc_uint8_t *ascii_map(const char *in, utf8proc_ssize_t *n)
{
	size_t len = 0;
	utf8proc_uint8_t *m;

	while (in[len]) {
		if ((unsigned char)in[len] >= 0x80)
			return NULL;
		len++;
	}
	m = malloc(len + 1);
	if (!m)
		return NULL;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)in[i];

		m[i] = (utf8proc_uint8_t)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	*n = (utf8proc_ssize_t)len;
	return m;
}

static char *fold(const char *in, int keep_brackets, int ascii_fast)
{
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n = 0;
	char *out = NULL, *o;
	const utf8proc_uint8_t *p;
	utf8proc_ssize_t left;
	int prev = 0; /* 0 start/space, 1 cjk, 2 other letter/digit */

	if (!in)
		in = "";
	if (ascii_fast)
		mapped = ascii_map(in, &n);
	if (!mapped)
		n = utf8proc_map((const utf8proc_uint8_t *)in, 0, &mapped,
				 (utf8proc_option_t)(UTF8PROC_NULLTERM | UTF8PROC_STABLE |
						     UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
						     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
						     UTF8PROC_IGNORE));
	if (n < 0)
		return NULL;
	/* worst case: every byte becomes " and " or a 4-byte char with spaces */
	out = malloc((size_t)n * 6 + 8);
	if (!out)
		goto out;
	o = out;
	p = mapped;
	left = n;
	while (left > 0) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p, left, &c);
		utf8proc_category_t cat;
		int cls;

		if (k <= 0)
			break;
		p += k;
		left -= k;
		if (c == '\'' || c == 0x2019 || c == 0x00B7 || c == 0x30FB)
			continue; /* int'l -> intl; 中点 in foreign names */
		if (is_open_bracket((uint32_t)c) || is_close_bracket((uint32_t)c)) {
			if (prev != 0)
				*o++ = ' ';
			if (keep_brackets)
				*o++ = is_open_bracket((uint32_t)c) ? '(' : ')';
			*o++ = ' ';
			prev = 0;
			continue;
		}
		if (c == '&' || c == '+') {
			if (prev != 0)
				*o++ = ' ';
			memcpy(o, "and ", 4);
			o += 4;
			prev = 0;
			continue;
		}
		cat = utf8proc_category(c);
		if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO)
			cls = match__is_cjk((uint32_t)c) ? 1 : 2;
		else if (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO)
			cls = 2;
		else
			cls = 0;
		if (cls == 0) {
			if (prev != 0)
				*o++ = ' ';
			prev = 0;
			continue;
		}
		if (prev != 0 && prev != cls)
			*o++ = ' ';
		put_cp(&o, (uint32_t)c);
		prev = cls;
	}
	/* trim a trailing space */
	while (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
out:
	free(mapped);
	return out;
}

char *match__fold(const char *in, int keep_brackets)
{
	return fold(in, keep_brackets, 1);
}

char *match__fold_utf8proc(const char *in, int keep_brackets)
{
	return fold(in, keep_brackets, 0);
}

size_t match__decode(const char *s, uint32_t *out, size_t max)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
	size_t n = 0;

	while (left > 0 && n < max) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate(p, left, &c);
		if (k <= 0)
			break;
		out[n++] = (uint32_t)c;
		p += k;
		left -= k;
	}
	return n;
}

double match__jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	uint8_t ma[64], mb[64];
	size_t i, j, range, m = 0, t = 0, k, l;
	double jaro;

	if (na == 0 || nb == 0)
		return 0.0;
	if (na > 64)
		na = 64;
	if (nb > 64)
		nb = 64;
	memset(ma, 0, na);
	memset(mb, 0, nb);
	range = (na > nb ? na : nb) / 2;
	range = range > 0 ? range - 1 : 0;
	for (i = 0; i < na; i++) {
		size_t lo = i > range ? i - range : 0;
		size_t hi = i + range + 1 < nb ? i + range + 1 : nb;
		for (j = lo; j < hi; j++) {
			if (!mb[j] && a[i] == b[j]) {
				ma[i] = mb[j] = 1;
				m++;
				break;
			}
		}
	}
	if (m == 0)
		return 0.0;
	k = 0;
	for (i = 0; i < na; i++) {
		if (!ma[i])
			continue;
		while (!mb[k])
			k++;
		if (a[i] != b[k])
			t++;
		k++;
	}
	jaro = ((double)m / (double)na + (double)m / (double)nb +
		((double)m - (double)t / 2.0) / (double)m) / 3.0;
	l = 0;
	while (l < 4 && l < na && l < nb && a[l] == b[l])
		l++;
	return jaro + (double)l * 0.1 * (1.0 - jaro);
}

unsigned match__lev(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return match__lev_bounded(a, na, b, nb, 255);
}

unsigned match__lev_bounded(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
			    unsigned maxd)
{
	/* optimal string alignment: Levenshtein plus adjacent transpositions */
	unsigned rows[3][MATCH_ADDR_MAX + 1];
	unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
	size_t i, j;

	if (na > MATCH_ADDR_MAX)
		na = MATCH_ADDR_MAX;
	if (nb > MATCH_ADDR_MAX)
		nb = MATCH_ADDR_MAX;
	for (j = 0; j <= nb; j++)
		prev[j] = (unsigned)j;
	for (i = 1; i <= na; i++) {
		unsigned *t, rowmin;
		cur[0] = (unsigned)i;
		rowmin = cur[0];
		for (j = 1; j <= nb; j++) {
			unsigned best = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
			if (best < rowmin)
				rowmin = best;
		}
		if (rowmin > maxd)
			return maxd + 1; /* every path is already too long */
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb] > 255 ? 255 : prev[nb];
}

double match__lev_sim(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t mx = na > nb ? na : nb;

	if (mx == 0)
		return 0.0;
	/* lengths far apart: the distance is at least their difference */
	if ((na > nb ? na - nb : nb - na) * 2 > mx)
		return 1.0 - (double)(na > nb ? na - nb : nb - na) / (double)mx;
	return 1.0 - (double)match__lev(a, na, b, nb) / (double)mx;
}

uint64_t match__hash(char tag, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	h ^= (unsigned char)tag;
	h *= 1099511628211ULL;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	/* final mix (splitmix64) so the low bits are good for tables */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}
