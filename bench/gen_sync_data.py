#!/usr/bin/env python3
"""gen_sync_data: seeded customers and activities for bench_sync_vs_pouchdb.sh.

Writes, into OUT_DIR, the same records in two shapes so both sides of the sync
benchmark replicate identical documents:
  customers.csv, activities.csv  for `crm import` (header = column names;
                                 activities name their customer by
                                 customer_ext_ref; values already canonical:
                                 E.164 phones, valid USCCs, UTC ISO-8601 times)
  docs.ndjson                    one JSON document per line for PouchDB
                                 (customers first, then activities with a
                                 customer_id that references the customer's _id;
                                 the same field values, times as UTC ms as the
                                 crm replica stores them, plus the owner/author
                                 and created_at/updated_at the crm client adds)
Half the customers are Chinese companies, half English ones. Same seed, same
bytes: nothing here reads the clock or the environment.

usage: gen_sync_data.py [--seed N] [--customers N] [--activities N] [--owner NAME] OUT_DIR
"""
import argparse
import csv
import datetime
import json
import os
import random
import sys

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]

CN_REGIONS = [
    ("深圳市", "深圳", "广东省", "440300", "0755"), ("广州市", "广州", "广东省", "440100", "020"),
    ("上海", "上海", "上海市", "310000", "021"), ("北京", "北京", "北京市", "110000", "010"),
    ("杭州", "杭州", "浙江省", "330100", "0571"), ("苏州", "苏州", "江苏省", "320500", "0512"),
    ("南京", "南京", "江苏省", "320100", "025"), ("成都", "成都", "四川省", "510100", "028"),
    ("武汉", "武汉", "湖北省", "420100", "027"), ("西安", "西安", "陕西省", "610100", "029"),
    ("天津", "天津", "天津市", "120000", "022"), ("重庆", "重庆", "重庆市", "500000", "023"),
    ("东莞市", "东莞", "广东省", "441900", "0769"), ("宁波", "宁波", "浙江省", "330200", "0574"),
    ("青岛", "青岛", "山东省", "370200", "0532"), ("厦门", "厦门", "福建省", "350200", "0592"),
]
CN_BRAND = list("华信达鑫源泰丰恒瑞宏盛通博远创新金银海天星光明辉凯利安康永嘉德佳美")
CN_TRADE = ["科技", "电子", "贸易", "机械", "物流", "建材", "医疗器械", "食品", "纺织", "软件",
            "信息技术", "新能源", "环保", "化工", "精密制造", "供应链管理", "商贸", "网络"]
CN_FORM = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司"]
CN_ROADS = ["深南大道", "科技园路", "人民路", "中山路", "解放路", "建设路", "长江路", "南京路",
            "滨海大道", "高新南一道", "软件园二期", "创业路", "西湖路", "文一西路"]
CN_INDUSTRY = ["制造业", "批发零售", "信息技术", "物流运输", "医疗健康", "建筑建材", "食品饮料",
               "教育培训", "新能源", "金融服务"]
CN_NOTES = [
    "客户对价格比较敏感，需要提供阶梯报价。", "老板姓王，决策快，喜欢当面沟通。",
    "去年试用过竞品，对售后服务不满意。", "采购流程需要三家比价，周期约两个月。",
    "年底有预算，重点跟进。", "财务要求月结60天。", "技术负责人关注接口和数据安全。",
    "已经加了采购经理的微信。", "对交货期要求高，要求两周内到货。", "",
]
CN_VISIT = [
    "上门拜访{who}，演示了新版系统，对方对报表功能很感兴趣，希望下周安排技术交流。",
    "电话沟通续约事宜，{who}表示预算已批，等法务审核合同条款。",
    "与{who}讨论了二期需求，重点是移动端审批和库存预警，需要出一份方案。",
    "客户反馈上次发货延迟了三天，已协调仓库加急处理，{who}表示理解。",
    "陪同区域经理拜访{who}，确认了年度框架协议的价格和返点政策。",
    "{who}询问培训安排，约定下月初到现场给操作人员做两次培训。",
    "回访使用情况，{who}说整体满意，但希望导出功能更灵活一些。",
    "{who}出差，改约下周三上午，先把报价单发到邮箱。",
]
CN_WHO = ["王总", "李经理", "张工", "刘主任", "陈总监", "杨经理", "赵总", "黄工", "周经理", "吴总"]
CN_OUTCOME = ["意向明确", "需要再跟进", "已报价", "等待决策", "已签约", "暂无需求"]
CN_NEXT = ["发送方案", "安排技术交流", "寄送样品", "跟进合同", "电话回访", "上门演示"]

EN_CITIES = [
    ("Shenzhen", "Guangdong"), ("Shanghai", "Shanghai"), ("Hong Kong", "Hong Kong"),
    ("Singapore", "Singapore"), ("London", "England"), ("Manchester", "England"),
    ("New York", "NY"), ("Chicago", "IL"), ("Austin", "TX"), ("Toronto", "ON"),
    ("Sydney", "NSW"), ("Hamburg", "Hamburg"), ("Rotterdam", "South Holland"),
]
EN_FIRST = ["Acme", "Blue", "Summit", "Pioneer", "Harbor", "Golden", "Silver", "Northern", "Apex",
            "Crescent", "Evergreen", "Falcon", "Granite", "Horizon", "Ironwood", "Juniper",
            "Keystone", "Liberty", "Meridian", "Oakridge", "Pacific", "Quantum", "Redwood",
            "Sterling", "Titan", "Union", "Vanguard", "Westfield"]
EN_SECOND = ["Trading", "Logistics", "Electronics", "Systems", "Foods", "Textiles", "Machinery",
             "Software", "Medical", "Energy", "Materials", "Packaging", "Components", "Labs"]
EN_FORM = ["Co., Ltd.", "Inc.", "LLC", "Ltd.", "GmbH", "Corp."]
EN_STREETS = ["Main Street", "Harbour Road", "King Street", "Market Street", "Queens Road",
              "Industrial Avenue", "Park Lane", "Station Road", "Commerce Drive"]
EN_INDUSTRY = ["Manufacturing", "Wholesale", "IT services", "Logistics", "Healthcare",
               "Construction", "Food and beverage", "Education", "Energy", "Finance"]
EN_NOTES = [
    "Price sensitive; asked for volume discounts.", "Decision maker is the COO, prefers email.",
    "Evaluating two competitors this quarter.", "Net 60 payment terms requested.",
    "Budget approved for Q3, follow up in June.", "Needs an on-site demo for the IT team.", "",
]
EN_VISIT = [
    "Visited {who} on site and demoed the new reporting module; they want a technical follow-up next week.",
    "Call with {who} about the renewal: budget is approved, waiting for legal to review the contract.",
    "Discussed phase two with {who}: mobile approvals and stock alerts. We owe them a proposal.",
    "{who} reported a delivery that was three days late; escalated to the warehouse.",
    "Quarterly review with {who}; usage is up 20 percent and they asked about more seats.",
    "{who} asked for training for the new operators; booked two sessions next month.",
    "Follow-up call: {who} is happy overall but wants more flexible exports.",
]
EN_WHO = ["Ms. Smith", "Mr. Jones", "the purchasing manager", "the CTO", "Dr. Patel", "Mr. Chen",
          "the finance director", "Ms. Garcia"]
EN_OUTCOME = ["interested", "needs follow-up", "quote sent", "waiting for decision", "signed", "no need now"]
EN_NEXT = ["send proposal", "book technical call", "ship samples", "chase contract", "call back", "on-site demo"]

STAGES = ["lead", "prospect", "customer", "loyal", "churned"]
SOURCES_CN = ["展会", "转介绍", "官网", "电话营销", "老客户"]
SOURCES_EN = ["trade show", "referral", "website", "cold call", "partner"]

BASE_MS = 1735689600000  # 2025-01-01T00:00:00Z; times are spread over the year after


def uscc_check(body17):
    s = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def make_uscc(rng, division, code):
    # 9 + 1 (enterprise), 6-digit division code, 9-character organisation code
    # (8 characters from a number unique per customer, then one at random), then
    # the GB 32100 check character.
    org = ""
    for _ in range(8):
        org = USCC_ALPHABET[code % 31] + org
        code //= 31
    body = "91" + division + org + rng.choice(USCC_ALPHABET)
    return body + uscc_check(body)


def fake_uuid(rng, ms):
    # UUIDv7-shaped (same length and layout as the ids crm makes), from the seed.
    hi = ms & 0xFFFFFFFFFFFF
    r = rng.getrandbits(74)
    a = (hi << 16) | 0x7000 | ((r >> 62) & 0x0FFF)
    b = (0b10 << 62) | (r & ((1 << 62) - 1))
    h = "%016x%016x" % (a, b)
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


def iso(ms):
    d = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def gen(args):
    rng = random.Random(args.seed)
    ncust = args.customers
    phones = rng.sample(range(10 ** 8), ncust)
    orgcodes = rng.sample(range(31 ** 8), ncust)
    names = set()
    customers = []
    for i in range(ncust):
        chinese = (i % 2 == 0)
        created = BASE_MS + rng.randrange(180 * 86400000)
        c = {"_id": fake_uuid(rng, created), "ext_ref": "BENCH-C%06d" % (i + 1)}
        if chinese:
            reg = rng.choice(CN_REGIONS)
            while True:
                name = reg[0] + "".join(rng.sample(CN_BRAND, 2)) + rng.choice(CN_TRADE) + rng.choice(CN_FORM)
                if name not in names:
                    break
            c.update(kind="company", name=name, uscc=make_uscc(rng, reg[3], orgcodes[i]),
                     phone="+861" + rng.choice("3456789") + "%d%08d" % (rng.randrange(10), phones[i]),
                     email="%s@corp%05d.cn" % (rng.choice(["info", "sales", "service", "hr"]), i),
                     address="%s%s%d号%s栋%d室" % (reg[1], rng.choice(CN_ROADS), rng.randrange(1, 999),
                                                  rng.choice("ABCDE"), rng.randrange(101, 2999)),
                     city=reg[1], region=reg[2], industry=rng.choice(CN_INDUSTRY),
                     source=rng.choice(SOURCES_CN), notes=rng.choice(CN_NOTES))
        else:
            city, region = rng.choice(EN_CITIES)
            while True:
                name = "%s %s %s" % (rng.choice(EN_FIRST), rng.choice(EN_SECOND), rng.choice(EN_FORM))
                if name in names:
                    name = "%s %s %d %s" % (rng.choice(EN_FIRST), rng.choice(EN_SECOND), i, rng.choice(EN_FORM))
                if name not in names:
                    break
            # English-named companies trade in China too: mobiles are Chinese so
            # they pass the same phone rule; no USCC for the foreign ones.
            c.update(kind="company", name=name, uscc=make_uscc(rng, "440300", orgcodes[i]) if i % 4 == 1 else "",
                     phone="+861" + rng.choice("3456789") + "%d%08d" % (rng.randrange(10), phones[i]),
                     email="%s@%s%05d.com" % (rng.choice(["info", "sales", "contact"]),
                                              name.split()[0].lower(), i),
                     address="%d %s, %s" % (rng.randrange(1, 400), rng.choice(EN_STREETS), city),
                     city=city, region=region, industry=rng.choice(EN_INDUSTRY),
                     source=rng.choice(SOURCES_EN), notes=rng.choice(EN_NOTES))
        names.add(c["name"])
        c.update(stage=rng.choice(STAGES), tier=rng.choice("ABC"), created=created)
        customers.append(c)

    activities = []
    for j in range(args.activities):
        # Every customer gets at least two activities when there are enough.
        ci = j % ncust if j < 2 * ncust else rng.randrange(ncust)
        c = customers[ci]
        chinese = (ci % 2 == 0)
        occurred = c["created"] + rng.randrange(1, 180 * 86400000)
        kind = rng.choice(["visit", "call"])
        a = {"customer": c, "kind": kind, "occurred": occurred}
        if chinese:
            a["note"] = rng.choice(CN_VISIT).format(who=rng.choice(CN_WHO))
            a["outcome"] = rng.choice(CN_OUTCOME)
            a["next_step"] = rng.choice(CN_NEXT)
        else:
            note = rng.choice(EN_VISIT).format(who=rng.choice(EN_WHO))
            a["note"] = note[0].upper() + note[1:]
            a["outcome"] = rng.choice(EN_OUTCOME)
            a["next_step"] = rng.choice(EN_NEXT)
        a["next_at"] = occurred + rng.randrange(1, 30) * 86400000
        a["satisfaction"] = rng.randrange(1, 6)
        if kind == "visit":
            a["latitude"] = round(rng.uniform(22.0, 40.0), 6)
            a["longitude"] = round(rng.uniform(100.0, 122.0), 6)
        a["_id"] = fake_uuid(rng, occurred)
        activities.append(a)
    return customers, activities


CUST_COLS = ["kind", "name", "uscc", "phone", "email", "address", "city", "region", "industry",
             "source", "stage", "tier", "notes", "ext_ref"]
ACT_COLS = ["customer_ext_ref", "kind", "occurred_at", "note", "outcome", "next_step", "next_at",
            "satisfaction", "latitude", "longitude"]


def write(args, customers, activities):
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CUST_COLS)
        for c in customers:
            w.writerow([c[k] for k in CUST_COLS])
    with open(os.path.join(args.out_dir, "activities.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(ACT_COLS)
        for a in activities:
            w.writerow([a["customer"]["ext_ref"], a["kind"], iso(a["occurred"]), a["note"], a["outcome"],
                        a["next_step"], iso(a["next_at"]), a["satisfaction"],
                        a.get("latitude", ""), a.get("longitude", "")])
    with open(os.path.join(args.out_dir, "docs.ndjson"), "w", encoding="utf-8") as f:
        for c in customers:
            d = {"_id": c["_id"], "type": "customer"}
            for k in CUST_COLS:
                if c[k] != "":
                    d[k] = c[k]
            d["owner"] = args.owner
            d["created_at"] = c["created"]
            d["updated_at"] = c["created"]
            f.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n")
        for a in activities:
            d = {"_id": a["_id"], "type": "activity", "customer_id": a["customer"]["_id"],
                 "kind": a["kind"], "occurred_at": a["occurred"], "author": args.owner,
                 "note": a["note"], "outcome": a["outcome"], "next_step": a["next_step"],
                 "next_at": a["next_at"], "satisfaction": a["satisfaction"]}
            if "latitude" in a:
                d["latitude"] = a["latitude"]
                d["longitude"] = a["longitude"]
            d["created_at"] = a["occurred"]
            d["updated_at"] = a["occurred"]
            f.write(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--customers", type=int, default=20000)
    p.add_argument("--activities", type=int, default=50000)
    p.add_argument("--owner", default="rep1", help="owner/author written into the PouchDB documents")
    p.add_argument("out_dir")
    args = p.parse_args()
    if args.customers < 1 or args.activities < 0:
        p.error("need at least one customer and no negative counts")
    customers, activities = gen(args)
    write(args, customers, activities)
    print("gen_sync_data: %d customers, %d activities in %s (seed %d)"
          % (len(customers), len(activities), args.out_dir, args.seed), file=sys.stderr)


if __name__ == "__main__":
    main()
