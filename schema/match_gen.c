/*
 * match_gen: seeded generator of business customers as reps type them
 * (see match_gen.h). Deterministic for a seed: same seed, same rows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match_gen.h"
#include "match_int.h"

/* ---- random numbers (splitmix64) ----------------------------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t pick(struct rng *r, size_t n)
{
	return (size_t)(rnd(r) % n);
}

static int chance(struct rng *r, double p)
{
	return (double)(rnd(r) >> 11) / 9007199254740992.0 < p;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- vocabularies --------------------------------------------------------- */

static const char *const zh_chars[] = {
	"华", "信", "达", "通", "泰", "盛", "恒", "鑫", "宏", "天", "元", "金", "鼎", "嘉",
	"博", "瑞", "安", "联", "创", "兴", "利", "丰", "源", "隆", "昌", "荣", "誉", "德",
	"诚", "和", "顺", "益", "远", "航", "光", "明", "星", "辰", "宇", "汇", "众", "合",
	"腾", "飞", "云", "峰", "晨", "阳", "康", "美", "绿", "洲", "银", "凯", "旋", "永",
	"立", "豪", "润", "富", "祥", "万", "乐", "乾", "坤", "启", "卓", "越", "精", "锦",
	"程", "耀", "图", "强", "品", "优", "智", "弘", "毅", "晟", "昊", "森", "鹏", "铭",
	"灿", "骏", "展", "翔", "奥", "威", "禾", "思", "蓝", "海", "东", "方", "新", "佳"};

/* Homophones a pinyin input method offers: the usual Chinese typo. */
static const char *const zh_homo[][2] = {
	{"信", "新"}, {"新", "信"}, {"鑫", "欣"}, {"达", "大"}, {"华", "化"}, {"泰", "太"},
	{"盛", "胜"}, {"恒", "衡"}, {"宏", "鸿"}, {"元", "源"}, {"源", "元"}, {"金", "今"},
	{"嘉", "佳"}, {"佳", "嘉"}, {"博", "搏"}, {"瑞", "锐"}, {"兴", "星"}, {"星", "兴"},
	{"利", "力"}, {"丰", "峰"}, {"峰", "丰"}, {"隆", "龙"}, {"昌", "长"}, {"荣", "容"},
	{"德", "得"}, {"诚", "成"}, {"和", "合"}, {"合", "和"}, {"益", "易"}, {"远", "源"},
	{"航", "行"}, {"光", "广"}, {"明", "名"}, {"辰", "晨"}, {"晨", "辰"}, {"宇", "雨"},
	{"汇", "惠"}, {"众", "中"}, {"飞", "菲"}, {"云", "运"}, {"阳", "扬"}, {"康", "抗"},
	{"凯", "恺"}, {"永", "勇"}, {"豪", "浩"}, {"富", "福"}, {"祥", "翔"}, {"翔", "祥"},
	{"启", "起"}, {"卓", "桌"}, {"越", "悦"}, {"精", "晶"}, {"锦", "金"}, {"程", "成"},
	{"智", "志"}, {"弘", "宏"}, {"鹏", "朋"}, {"铭", "明"}, {"威", "伟"}, {"思", "斯"},
	{"蓝", "兰"}, {"海", "还"}, {"东", "冬"}, {"方", "芳"}};

static const char *const zh_industry[] = {
	"科技", "贸易", "电子", "机械", "物流", "实业", "化工", "建材", "食品", "医药",
	"信息技术", "网络科技", "环保科技", "文化传媒", "餐饮管理", "建筑工程", "服装",
	"纺织", "包装", "广告", "咨询", "软件", "生物科技", "新能源", "汽车配件", "电气",
	"精密制造", "供应链管理", "投资", "教育科技", "医疗器械", "农业", "印刷", "家具",
	"五金", "光电", "智能科技", "进出口", "商贸", "设备"};

static const char *const zh_legal[] = {"有限公司", "有限公司", "有限公司", "有限公司",
				       "股份有限公司", "有限责任公司", "集团有限公司"};

/* Cities used by the generator: region table names (zh, en) and province. */
static const char *const gen_cities[] = {
	"深圳", "广州", "东莞", "佛山", "杭州", "宁波", "南京", "苏州", "无锡", "成都",
	"武汉", "西安", "长沙", "郑州", "济南", "青岛", "厦门", "福州", "合肥", "南昌",
	"昆明", "沈阳", "大连", "北京", "上海", "天津", "重庆", "珠海", "温州", "常州"};

static const char *const en_words[] = {
	"Acme", "Pioneer", "Summit", "Evergreen", "Apex", "Orient", "Pacific", "Golden",
	"Silverline", "Northstar", "Bluewave", "Redwood", "Sunrise", "Greenfield", "Horizon",
	"Crystal", "Dragon", "Phoenix", "Lotus", "Jade", "Sterling", "Vanguard", "Keystone",
	"Harbor", "Meridian", "Zenith", "Nova", "Atlas", "Titan", "Falcon", "Eagle", "Crown",
	"Royal", "Unity", "Fortune", "Prime", "Vertex", "Cascade", "Sierra", "Beacon",
	"Liberty", "Everbright", "Grand", "Noble", "Oakridge", "Riverside", "Skyline",
	"Starlight", "Trinity", "Victory", "Westbrook", "Bright", "Cosmo", "Delta", "Echo",
	"Fusion", "Galaxy", "Hexa", "Infinity", "Jupiter", "Kingston", "Lumen", "Magnolia",
	"Neptune", "Olympus", "Pinnacle", "Quantum", "Radiant", "Sapphire", "Topaz",
	"Ultra", "Vista", "Wellspring", "Xenon", "Yukon", "Zephyr", "Ameri", "Brightway",
	"Continental", "Dynasty", "Emerald", "Frontier", "Glory", "Heritage", "Imperial"};

/* English industries: the full form and what reps shorten it to. */
static const char *const en_industry[][2] = {
	{"Trading", "Trading"},
	{"International Trading", "Intl Trading"},
	{"Technology", "Tech"},
	{"Electronics", "Elec"},
	{"Logistics", "Logistics"},
	{"Manufacturing", "Mfg"},
	{"Pharmaceutical", "Pharma"},
	{"Industrial", "Industrial"},
	{"Engineering", "Eng"},
	{"Consulting", "Consulting"},
	{"Foods", "Foods"},
	{"Chemical", "Chem"},
	{"Medical Equipment", "Medical Equip"},
	{"Software", "Software"},
	{"Textiles", "Textiles"},
	{"Packaging", "Packaging"},
	{"Automotive Parts", "Automotive Parts"},
	{"Machinery", "Machinery"},
	{"Investment Management", "Investment Mgmt"},
	{"Systems", "Sys"},
	{"Services", "Svcs"},
	{"Development", "Dev"},
	{"Marketing", "Marketing"}};

static const char *const en_legal[] = {"Co., Ltd.", "Co., Ltd.", "Company Limited", "Limited",
				       "Ltd.", "Inc.", "Corporation", "LLC", "Co. Ltd"};

static const char *const streets_zh[] = {"深南大道", "科技园路", "人民路", "中山路", "解放路",
					 "建设路", "高新路", "滨海大道", "长江路", "和平路",
					 "工业大道", "创业路", "南京路", "东风路", "新华路"};

/* ---- entities ------------------------------------------------------------- */

struct ent {
	long id;
	int zh;          /* 1: Chinese name */
	int city;        /* index into gen_cities */
	char trade[32];  /* 华信 / Acme or Blue Ocean */
	int industry;
	int legal;
	int branch_city; /* -1 head office; otherwise the branch's city */
	int hard;
	char uscc[20];
	char board[24];  /* switchboard digits, e.g. 075588881234 */
	char mob[3][16];
	int nmob;
	char domain[48];
	char street[80];
};

static const char uscc_alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static void make_uscc(struct rng *r, char out[20])
{
	static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
	int i, sum = 0;

	out[0] = '9';
	out[1] = '1';
	for (i = 2; i < 8; i++)
		out[i] = (char)('0' + pick(r, 10));
	for (i = 8; i < 17; i++)
		out[i] = uscc_alpha[pick(r, 31)];
	for (i = 0; i < 17; i++)
		sum += (int)(strchr(uscc_alpha, out[i]) - uscc_alpha) * w[i];
	out[17] = uscc_alpha[(31 - sum % 31) % 31];
	out[18] = '\0';
}

static void make_mobile(struct rng *r, char out[16])
{
	static const char *const pre[] = {"138", "139", "136", "137", "150", "151", "152",
					  "158", "159", "186", "187", "188", "135", "177"};
	snprintf(out, 16, "%s%04u%04u", pre[pick(r, N(pre))], (unsigned)pick(r, 10000),
		 (unsigned)pick(r, 10000));
}

static const char *const area_codes[] = {"755", "20", "769", "757", "571", "574", "25", "512",
					 "510", "28", "27", "29", "731", "371", "531", "532",
					 "592", "591", "551", "791", "871", "24", "411", "10",
					 "21", "22", "23", "756", "577", "519"};

static void make_board(struct rng *r, int city, char out[24])
{
	snprintf(out, 24, "0%s%04u%04u", area_codes[city], (unsigned)(2000 + pick(r, 8000)),
		 (unsigned)pick(r, 10000));
}

static void fresh_contacts(struct rng *r, struct ent *e)
{
	int i;

	make_uscc(r, e->uscc);
	make_board(r, e->city, e->board);
	e->nmob = 1 + (int)pick(r, 3);
	for (i = 0; i < e->nmob; i++)
		make_mobile(r, e->mob[i]);
	if (e->zh)
		snprintf(e->street, sizeof e->street, "%s%u号", streets_zh[pick(r, N(streets_zh))],
			 (unsigned)(1 + pick(r, 3000)));
	else
		snprintf(e->street, sizeof e->street, "%u %s Road", (unsigned)(1 + pick(r, 999)),
			 en_words[pick(r, N(en_words))]);
}

static void make_domain(struct rng *r, struct ent *e)
{
	size_t i, n = 0;
	char base[40];

	if (e->zh) {
		for (i = 0; i < 3; i++)
			base[n++] = (char)('a' + pick(r, 26));
		n += (size_t)snprintf(base + n, sizeof base - n, "%u", (unsigned)pick(r, 1000));
	} else {
		for (i = 0; e->trade[i] && n < 20; i++)
			if (isalpha((unsigned char)e->trade[i]))
				base[n++] = (char)tolower((unsigned char)e->trade[i]);
		for (i = 0; en_industry[e->industry][1][i] && n < 30; i++)
			if (isalpha((unsigned char)en_industry[e->industry][1][i]))
				base[n++] = (char)tolower((unsigned char)en_industry[e->industry][1][i]);
		base[n] = '\0';
		if (chance(r, 0.5))
			n += (size_t)snprintf(base + n, sizeof base - n, "%u",
					      (unsigned)pick(r, 100));
	}
	base[n] = '\0';
	snprintf(e->domain, sizeof e->domain, "%s.%s", base, chance(r, 0.6) ? "com" : "com.cn");
}

static void new_entity(struct rng *r, struct ent *e, long id)
{
	memset(e, 0, sizeof *e);
	e->id = id;
	e->zh = chance(r, 0.65);
	e->city = (int)pick(r, N(gen_cities));
	e->branch_city = -1;
	if (e->zh) {
		size_t a = pick(r, N(zh_chars)), b = pick(r, N(zh_chars));
		while (b == a)
			b = pick(r, N(zh_chars));
		if (chance(r, 0.3))
			snprintf(e->trade, sizeof e->trade, "%s%s%s", zh_chars[a], zh_chars[b],
				 zh_chars[pick(r, N(zh_chars))]);
		else
			snprintf(e->trade, sizeof e->trade, "%s%s", zh_chars[a], zh_chars[b]);
		e->industry = (int)pick(r, N(zh_industry));
		e->legal = (int)pick(r, N(zh_legal));
	} else {
		if (chance(r, 0.6))
			snprintf(e->trade, sizeof e->trade, "%s %s", en_words[pick(r, N(en_words))],
				 en_words[pick(r, N(en_words))]);
		else
			snprintf(e->trade, sizeof e->trade, "%s", en_words[pick(r, N(en_words))]);
		e->industry = (int)pick(r, N(en_industry));
		e->legal = (int)pick(r, N(en_legal));
	}
	fresh_contacts(r, e);
	make_domain(r, e);
}

/* A hard negative of base: same trade name elsewhere, another industry, a branch. */
static void hard_entity(struct rng *r, struct ent *e, const struct ent *base, long id)
{
	int mode = (int)pick(r, 3);
	size_t nind = base->zh ? N(zh_industry) : N(en_industry);

	*e = *base;
	e->id = id;
	e->hard = 1;
	fresh_contacts(r, e);
	if (mode == 0) {
		while (e->city == base->city)
			e->city = (int)pick(r, N(gen_cities));
		make_board(r, e->city, e->board);
		do
			make_domain(r, e);
		while (strcmp(e->domain, base->domain) == 0);
	} else if (mode == 1) {
		while (e->industry == base->industry)
			e->industry = (int)pick(r, nind);
		make_domain(r, e);
	} else {
		/* a branch: own phones and USCC, the head office's e-mail domain */
		e->branch_city = (int)pick(r, N(gen_cities));
		while (e->branch_city == base->city)
			e->branch_city = (int)pick(r, N(gen_cities));
		make_board(r, e->branch_city, e->board);
	}
}

/* ---- rendering as a rep types it ----------------------------------------- */

/* ASCII to full-width (as a Chinese input method in full-width mode types it). */
static void to_fullwidth(char *s, size_t cap)
{
	char out[320];
	size_t o = 0, i;

	for (i = 0; s[i] && o + 4 < sizeof out; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f) {
			unsigned cp = 0xFF00u + c - 0x20u;
			out[o++] = (char)(0xE0 | (cp >> 12));
			out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	if (o >= cap)
		return; /* would not fit: keep the ASCII text */
	memcpy(s, out, o + 1);
}

static void zh_typo(struct rng *r, const char *trade, char *out, size_t cap)
{
	/* trade is two or three 3-byte characters; change one */
	size_t nch = strlen(trade) / 3, which, i, o = 0;
	char ch[3][4];
	const char *rep = NULL;

	if (nch < 2 || nch > 3) {
		snprintf(out, cap, "%s", trade);
		return;
	}
	which = pick(r, nch);
	for (i = 0; i < nch; i++) {
		memcpy(ch[i], trade + 3 * i, 3);
		ch[i][3] = '\0';
	}
	for (i = 0; i < N(zh_homo); i++)
		if (strcmp(zh_homo[i][0], ch[which]) == 0)
			rep = zh_homo[i][1];
	if (!rep)
		rep = zh_chars[pick(r, N(zh_chars))];
	snprintf(ch[which], sizeof ch[which], "%s", rep);
	out[0] = '\0';
	for (i = 0; i < nch && o + 4 < cap; i++) {
		memcpy(out + o, ch[i], 3);
		o += 3;
	}
	out[o] = '\0';
}

static void en_typo(struct rng *r, char *s)
{
	size_t n = strlen(s), i;
	int kind = (int)pick(r, 3);

	if (n < 4)
		return;
	i = 1 + pick(r, n - 2);
	if (!isalpha((unsigned char)s[i]) || !isalpha((unsigned char)s[i + 1]))
		return;
	if (kind == 0) { /* swap */
		char t = s[i];
		s[i] = s[i + 1];
		s[i + 1] = t;
	} else if (kind == 1) { /* drop */
		memmove(s + i, s + i + 1, n - i);
	} else { /* wrong letter */
		s[i] = (char)('a' + pick(r, 26));
	}
}

static void render_zh_name(struct rng *r, const struct ent *e, int canonical, char *out,
			   size_t cap)
{
	const char *city = gen_cities[e->city];
	char trade[32], region_pre[64] = "", region_br[64] = "", legal[32];
	const char *ind = zh_industry[e->industry];
	int style = canonical ? 0 : (int)pick(r, 6);

	snprintf(trade, sizeof trade, "%s", e->trade);
	snprintf(legal, sizeof legal, "%s", zh_legal[e->legal]);
	if (!canonical) {
		if (chance(r, 0.12))
			zh_typo(r, e->trade, trade, sizeof trade);
		if (chance(r, 0.3))
			legal[0] = '\0';
		else if (chance(r, 0.2))
			snprintf(legal, sizeof legal, "%s", zh_legal[pick(r, N(zh_legal))]);
	}
	switch (style) {
	case 0:
		snprintf(region_pre, sizeof region_pre, "%s市", city);
		break;
	case 1:
		snprintf(region_pre, sizeof region_pre, "%s", city);
		break;
	case 2:
		snprintf(region_br, sizeof region_br, "（%s）", city);
		break;
	case 3: {
		int reg = match__region_lookup(city);
		int prov = reg >= 0 ? match__regions[reg].parent : -1;
		if (prov > 0)
			snprintf(region_pre, sizeof region_pre, "%s省%s市", match__regions[prov].zh,
				 city);
		else
			snprintf(region_pre, sizeof region_pre, "%s市", city);
		break;
	}
	default:
		break; /* region left out */
	}
	if (e->branch_city >= 0) {
		const char *bc = gen_cities[e->branch_city];
		if (!canonical && chance(r, 0.4))
			snprintf(out, cap, "%s%s%s%s分公司", region_pre, trade, ind, bc);
		else
			snprintf(out, cap, "%s%s%s%s%s%s分公司", region_pre, trade, ind, region_br,
				 legal[0] ? legal : "有限公司", bc);
	} else {
		snprintf(out, cap, "%s%s%s%s%s", region_pre, trade, ind, region_br, legal);
	}
}

static void case_style(struct rng *r, char *s)
{
	int k = (int)pick(r, 4);
	size_t i;

	if (k == 1)
		for (i = 0; s[i]; i++)
			s[i] = (char)toupper((unsigned char)s[i]);
	else if (k == 2)
		for (i = 0; s[i]; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
}

static void render_en_name(struct rng *r, const struct ent *e, int canonical, char *out,
			   size_t cap)
{
	const char *city = NULL;
	char trade[40], ind[48], legal[24];
	int reg = match__region_lookup(gen_cities[e->city]);
	int style = canonical ? 0 : (int)pick(r, 5);

	if (reg >= 0)
		city = match__regions[reg].en;
	snprintf(trade, sizeof trade, "%s", e->trade);
	snprintf(ind, sizeof ind, "%s", en_industry[e->industry][0]);
	snprintf(legal, sizeof legal, "%s", en_legal[e->legal]);
	if (!canonical) {
		if (chance(r, 0.3))
			snprintf(ind, sizeof ind, "%s", en_industry[e->industry][1]);
		if (chance(r, 0.25))
			legal[0] = '\0';
		else if (chance(r, 0.3))
			snprintf(legal, sizeof legal, "%s", en_legal[pick(r, N(en_legal))]);
		if (chance(r, 0.12))
			en_typo(r, trade);
		else if (chance(r, 0.06))
			en_typo(r, ind);
	}
	{
		char cityc[32] = "";
		if (city) {
			size_t i;
			snprintf(cityc, sizeof cityc, "%s", city);
			for (i = 0; cityc[i]; i++)
				if (i == 0 || cityc[i - 1] == ' ')
					cityc[i] = (char)toupper((unsigned char)cityc[i]);
		}
		if (e->branch_city >= 0) {
			int breg = match__region_lookup(gen_cities[e->branch_city]);
			char bc[32] = "";
			size_t i;
			if (breg >= 0)
				snprintf(bc, sizeof bc, "%s", match__regions[breg].en);
			for (i = 0; bc[i]; i++)
				if (i == 0 || bc[i - 1] == ' ')
					bc[i] = (char)toupper((unsigned char)bc[i]);
			if (style == 0 || style == 1)
				snprintf(out, cap, "%s %s (%s) %s %s Branch", trade, ind, cityc,
					 legal[0] ? legal : "Co., Ltd.", bc);
			else
				snprintf(out, cap, "%s %s %s %s Branch", trade, ind,
					 legal[0] ? legal : "Co., Ltd.", bc);
		} else if (style == 0 || style == 1) {
			snprintf(out, cap, "%s %s (%s) %s", trade, ind, cityc, legal);
		} else if (style == 2) {
			snprintf(out, cap, "%s %s %s", cityc, trade, ind);
		} else {
			snprintf(out, cap, "%s %s %s", trade, ind, legal);
		}
	}
	if (!canonical) {
		case_style(r, out);
		if (chance(r, 0.08))
			to_fullwidth(out, cap);
	}
	/* trim trailing spaces left by an empty legal form */
	{
		size_t n = strlen(out);
		while (n > 0 && out[n - 1] == ' ')
			out[--n] = '\0';
	}
}

static void render_phone(struct rng *r, const char *digits, int mobile, char *out, size_t cap)
{
	int k = (int)pick(r, 5);

	if (mobile) {
		if (k == 0)
			snprintf(out, cap, "%.3s %.4s %.4s", digits, digits + 3, digits + 7);
		else if (k == 1)
			snprintf(out, cap, "+86 %.3s-%.4s-%.4s", digits, digits + 3, digits + 7);
		else if (k == 2)
			snprintf(out, cap, "86%s", digits);
		else
			snprintf(out, cap, "%s", digits);
	} else {
		size_t al = digits[1] == '1' || digits[1] == '2' ? 3 : 4;
		if (k == 0)
			snprintf(out, cap, "%.*s-%s", (int)al, digits, digits + al);
		else if (k == 1)
			snprintf(out, cap, "(%.*s)%s", (int)al, digits, digits + al);
		else if (k == 2)
			snprintf(out, cap, "+86 %.*s %s", (int)al - 1, digits + 1, digits + al);
		else
			snprintf(out, cap, "%s", digits);
	}
	if (chance(r, 0.1))
		to_fullwidth(out, cap);
}

static void render_row(struct rng *r, const struct ent *e, int canonical,
		       struct match_gen_row *row)
{
	memset(row, 0, sizeof *row);
	row->entity = e->id;
	row->hard = e->hard;
	if (e->zh)
		render_zh_name(r, e, canonical, row->name, sizeof row->name);
	else
		render_en_name(r, e, canonical, row->name, sizeof row->name);
	/* USCC: often not typed; sometimes mistyped (then it is no evidence) */
	if (chance(r, canonical ? 0.5 : 0.3)) {
		snprintf(row->uscc, sizeof row->uscc, "%s", e->uscc);
		if (chance(r, 0.05))
			row->uscc[5 + pick(r, 10)] = (char)('0' + pick(r, 10));
		if (chance(r, 0.3))
			for (size_t i = 0; row->uscc[i]; i++)
				row->uscc[i] = (char)tolower((unsigned char)row->uscc[i]);
	}
	/* phone: the switchboard, one contact's mobile, or nothing */
	{
		double u = (double)(rnd(r) >> 11) / 9007199254740992.0;
		if (u < 0.3)
			render_phone(r, e->board, 0, row->phone, sizeof row->phone);
		else if (u < 0.9)
			render_phone(r, e->mob[pick(r, (size_t)e->nmob)], 1, row->phone,
				     sizeof row->phone);
	}
	/* e-mail: a company address, a contact's free mailbox, or nothing */
	{
		double u = (double)(rnd(r) >> 11) / 9007199254740992.0;
		if (u < 0.35) {
			static const char *const box[] = {"info", "sales", "contact", "purchase",
							  "admin", "service"};
			snprintf(row->email, sizeof row->email, "%s@%s", box[pick(r, N(box))],
				 e->domain);
		} else if (u < 0.5) {
			const char *m = e->mob[pick(r, (size_t)e->nmob)];
			snprintf(row->email, sizeof row->email, "%.9s@qq.com", m + 2);
		}
		if (chance(r, 0.2))
			for (size_t i = 0; row->email[i]; i++)
				row->email[i] = (char)toupper((unsigned char)row->email[i]);
	}
	if (chance(r, 0.6))
		snprintf(row->address, sizeof row->address, "%s", e->street);
	if (chance(r, 0.4)) {
		int c = e->branch_city >= 0 ? e->branch_city : e->city;
		int reg = match__region_lookup(gen_cities[c]);
		snprintf(row->city, sizeof row->city, "%s",
			 e->zh || reg < 0 ? gen_cities[c] : match__regions[reg].en);
	}
	row->in.kind = chance(r, 0.8) ? "company" : NULL;
	row->in.name = row->name;
	row->in.uscc = row->uscc;
	row->in.phone = row->phone;
	row->in.email = row->email;
	row->in.address = row->address;
	row->in.city = row->city;
}

/* in's pointers must follow the row when rows are moved */
static void fix_pointers(struct match_gen_row *row)
{
	row->in.name = row->name;
	row->in.uscc = row->uscc;
	row->in.phone = row->phone;
	row->in.email = row->email;
	row->in.address = row->address;
	row->in.city = row->city;
}

static size_t dup_count(struct rng *r)
{
	double u = (double)(rnd(r) >> 11) / 9007199254740992.0;

	if (u < 0.6)
		return 0;
	if (u < 0.85)
		return 1;
	if (u < 0.96)
		return 2;
	return 3;
}

/* Identity of an entity: two entities must never share it (names are unique). */
static uint64_t ent_key(const struct ent *e)
{
	char buf[96];
	int k = snprintf(buf, sizeof buf, "%d|%s|%d|%d|%d", e->zh, e->trade, e->industry, e->city,
			 e->branch_city);

	return match__hash('x', buf, k > 0 ? (size_t)k : 0);
}

/* Inserts key into the set (open addressing, cap a power of two); 0 if present. */
static int set_insert(uint64_t *set, size_t cap, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);

	while (set[i] != 0) {
		if (set[i] == key)
			return 0;
		i = (i + 1) & (cap - 1);
	}
	set[i] = key;
	return 1;
}

enum crm_err match_gen_make(struct match_gen_set *set, uint64_t seed, size_t entities,
			    struct crm_error *err)
{
	struct rng r = {seed * 0x2545F4914F6CDD1DULL + 1};
	struct ent *ents = NULL;
	uint64_t *seen = NULL;
	size_t cap, i, n = 0, scap = 64;

	set->rows = NULL;
	set->n = 0;
	while (scap < entities * 4)
		scap *= 2;
	ents = malloc((entities ? entities : 1) * sizeof *ents);
	seen = calloc(scap, sizeof *seen);
	cap = entities * 5 + 1;
	set->rows = malloc(cap * sizeof *set->rows);
	if (!ents || !set->rows || !seen) {
		free(ents);
		free(seen);
		free(set->rows);
		set->rows = NULL;
		return crm_fail(err, CRM_ENOMEM, "out of memory generating customers");
	}
	for (i = 0; i < entities; i++) {
		size_t d, k;
		int tries = 0;
		do {
			if (i > 10 && chance(&r, 0.25))
				hard_entity(&r, &ents[i], &ents[pick(&r, i)], (long)i);
			else
				new_entity(&r, &ents[i], (long)i);
		} while (!set_insert(seen, scap, ent_key(&ents[i])) && ++tries < 100);
		/* two companies never share a mail domain (a branch shares its head's) */
		tries = 0;
		while (ents[i].branch_city < 0 &&
		       !set_insert(seen, scap,
				   match__hash('d', ents[i].domain, strlen(ents[i].domain))) &&
		       ++tries < 100)
			make_domain(&r, &ents[i]);
		render_row(&r, &ents[i], 1, &set->rows[n++]);
		d = dup_count(&r);
		for (k = 0; k < d && n < cap; k++)
			render_row(&r, &ents[i], 0, &set->rows[n++]);
	}
	/* shuffle so that the first record of an entity is not always canonical */
	for (i = n; i > 1; i--) {
		size_t j = pick(&r, i);
		struct match_gen_row t = set->rows[i - 1];
		set->rows[i - 1] = set->rows[j];
		set->rows[j] = t;
	}
	for (i = 0; i < n; i++)
		fix_pointers(&set->rows[i]);
	set->n = n;
	free(ents);
	free(seen);
	return CRM_OK;
}

void match_gen_release(struct match_gen_set *set)
{
	free(set->rows);
	set->rows = NULL;
	set->n = 0;
}

#define RING 4096

struct match_gen_stream {
	struct rng r;
	struct ent ring[RING];
	long next_id;
	uint64_t *seen; /* identities and mail domains used so far (names are unique) */
	size_t cap, used;
};

/* Inserts key, growing the set; 0 if it was there. On no memory, says new. */
static int stream_insert(struct match_gen_stream *s, uint64_t key)
{
	if ((s->used + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1 << 16, i;
		uint64_t *ns = calloc(nc, sizeof *ns);
		if (!ns)
			return 1;
		for (i = 0; i < s->cap; i++)
			if (s->seen[i])
				set_insert(ns, nc, s->seen[i]);
		free(s->seen);
		s->seen = ns;
		s->cap = nc;
	}
	if (!set_insert(s->seen, s->cap, key))
		return 0;
	s->used++;
	return 1;
}

enum crm_err match_gen_stream_new(struct match_gen_stream **out, uint64_t seed,
				  struct crm_error *err)
{
	struct match_gen_stream *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s)
		return crm_fail(err, CRM_ENOMEM, "out of memory");
	s->r.s = seed * 0x2545F4914F6CDD1DULL + 7;
	*out = s;
	return CRM_OK;
}

void match_gen_stream_next(struct match_gen_stream *s, struct match_gen_row *row)
{
	if (s->next_id > 16 && chance(&s->r, 0.3)) {
		size_t back = (size_t)(s->next_id < RING ? s->next_id : RING);
		const struct ent *e = &s->ring[(size_t)(s->next_id - 1 - (long)pick(&s->r, back)) %
					       RING];
		render_row(&s->r, e, 0, row);
	} else {
		struct ent *e = &s->ring[(size_t)s->next_id % RING];
		struct ent base = s->ring[(size_t)(s->next_id + RING - 1) % RING];
		int tries = 0;
		do {
			if (s->next_id > 16 && chance(&s->r, 0.2))
				hard_entity(&s->r, e, &base, s->next_id);
			else
				new_entity(&s->r, e, s->next_id);
		} while (!stream_insert(s, ent_key(e)) && ++tries < 200);
		tries = 0;
		while (e->branch_city < 0 &&
		       !stream_insert(s, match__hash('d', e->domain, strlen(e->domain))) &&
		       ++tries < 200)
			make_domain(&s->r, e);
		s->next_id++;
		render_row(&s->r, e, 1, row);
	}
	fix_pointers(row);
}

void match_gen_stream_free(struct match_gen_stream *s)
{
	if (s)
		free(s->seen);
	free(s);
}
