#!/usr/bin/env python3
"""Seeded generator of CRM data for the client benchmarks (bench_client.sh).

Writes customers.csv (N customers, Chinese and English, unique phones and
ext_refs) and activities.csv (M activities naming their customer by
customer_ext_ref) into OUTDIR. Same seed, same files.

usage: bench_client_gen.py OUTDIR [--customers 100000] [--activities 300000] [--seed 1]
"""
import argparse
import csv
import os
import random

REGIONS = ["深圳市", "广州市", "北京", "上海", "杭州市", "成都市", "武汉市", "南京市", "苏州市", "西安市",
           "东莞市", "佛山市", "厦门市", "青岛市", "天津市", "重庆市"]
CITIES = ["深圳", "广州", "北京", "上海", "杭州", "成都", "武汉", "南京", "苏州", "西安", "东莞", "佛山",
          "厦门", "青岛", "天津", "重庆"]
SYLLABLES = list("华信达通恒泰兴盛科创智联宏远鑫源明德嘉禾天润中鼎安康新锐博雅金辉永丰腾飞汇邦瑞祥凯旋伟业")
TRADES = ["科技", "贸易", "电子", "机械", "物流", "医药", "食品", "建材", "软件", "化工", "纺织", "能源"]
FORMS = ["有限公司", "股份有限公司", "有限责任公司"]
EN_WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
            "Tyrell", "Cyberdyne", "Wonka", "Oceanic", "Monarch", "Aperture", "Gringotts"]
EN_FORMS = ["Trading", "Industries", "Ltd.", "Inc.", "GmbH", "Holdings", "Logistics", "Systems"]
STREETS = ["科技园南区", "天河路", "中关村大街", "南京西路", "文三路", "人民南路", "中山大道", "新街口"]
NOTES = ["介绍新产品，客户有兴趣", "报价已发送，等待回复", "客户要求降价百分之五", "技术交流，演示系统",
         "年底有采购计划", "竞争对手也在接触", "签订框架合同的意向", "回访满意度调查",
         "Discussed renewal terms", "Demo of the new release went well", "Asked for a discount",
         "Follow up on the pilot", "Sent the quotation", "Met the purchasing manager"]
KINDS = ["visit", "call", "meeting", "email", "note"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--customers", type=int, default=100000)
    ap.add_argument("--activities", type=int, default=300000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)

    phones = rnd.sample(range(10**8), a.customers)
    with open(os.path.join(a.outdir, "customers.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "phone", "email", "city", "address", "industry", "stage", "tier", "notes", "ext_ref"])
        for i in range(a.customers):
            city = rnd.randrange(len(CITIES))
            if rnd.random() < 0.8:
                name = (REGIONS[city] + "".join(rnd.choice(SYLLABLES) for _ in range(2)) +
                        rnd.choice(TRADES) + rnd.choice(FORMS))
                email = ""
            else:
                word = rnd.choice(EN_WORDS)
                name = "%s %s %d" % (word, rnd.choice(EN_FORMS), i)
                email = "sales%d@%s.example" % (i, word.lower())
            phone = "1%d%d %04d %04d" % (rnd.choice([3, 5, 7, 8, 9]), rnd.randrange(10),
                                         phones[i] // 10000, phones[i] % 10000)
            w.writerow([name, phone, email, CITIES[city],
                        "%s%d号" % (rnd.choice(STREETS), rnd.randrange(1, 999)),
                        rnd.choice(TRADES), rnd.choice(["lead", "prospect", "customer", "loyal"]),
                        rnd.choice(["A", "B", "C"]), rnd.choice(NOTES) if rnd.random() < 0.3 else "",
                        "C%06d" % i])
    with open(os.path.join(a.outdir, "activities.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["customer_ext_ref", "kind", "occurred_at", "note", "next_at"])
        for i in range(a.activities):
            day = rnd.randrange(1, 28)
            w.writerow(["C%06d" % (i % a.customers), rnd.choice(KINDS),
                        "2026-%02d-%02dT%02d:00:00Z" % (rnd.randrange(1, 11), day, rnd.randrange(8, 18)),
                        rnd.choice(NOTES),
                        "2026-12-%02dT09:00:00Z" % day if rnd.random() < 0.2 else ""])


if __name__ == "__main__":
    main()
