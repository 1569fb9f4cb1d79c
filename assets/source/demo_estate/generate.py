"""Generate a deterministic synthetic enterprise estate with planted PII and broken files.

Same seed and scale → byte-identical files. ``scale`` multiplies every volume, so the same generator serves
tests (scale 1: a few hundred KB) and benchmarks (hundreds of MB).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sqlite3
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from . import corpora
from .identities import IdentityFactory, Person
from .manifest import Ground, fill, shift

BASE_TIME = datetime(2024, 1, 1, 9, 0, 0)

EN_TEMPLATES = (
    "My name is {PERSON}, you can reach me at {PHONE_NUMBER}.",
    "Please send the details to {EMAIL_ADDRESS}.",
    "The card number is {BANK_CARD}.",
    "I live at {ADDRESS}.",
    "My passport number is {PASSPORT} if you need it.",
    "This is {PERSON} ({EMAIL_ADDRESS}), card {BANK_CARD}.",
)
ZH_TEMPLATES = (
    "我叫{PERSON}，手机号{PHONE_NUMBER}。",
    "身份证号码：{CN_RESIDENT_ID}，请核实。",
    "请发邮件到{EMAIL_ADDRESS}。",
    "银行卡号{BANK_CARD}，麻烦查一下。",
    "我的地址是{ADDRESS}。",
    "我是{PERSON}，身份证{CN_RESIDENT_ID}，电话{PHONE_NUMBER}。",
)
# Canaries: each secret planted in this many tickets (the repeat counts of the exposure test).
CANARY_REPEATS = (1, 1, 4, 4, 16, 16)
CANARY_PREFIX, CANARY_SUFFIX = "Please call me back on ", ", that is my new number."
ZH_HANT_TEMPLATES = (
    "我是{PERSON}，身分證字號{TW_NATIONAL_ID}，電話{PHONE_NUMBER}。",
    "香港客戶{PERSON}，身份證號碼{HK_ID}。",
)


def _values(person: Person, passport: str) -> dict[str, str]:
    return {"PERSON": person.name, "PHONE_NUMBER": person.mobile, "EMAIL_ADDRESS": person.email,
            "BANK_CARD": person.bank_card, "ADDRESS": person.address, "PASSPORT": passport,
            person.id_type: person.id_number}


class EstateWriter:
    def __init__(self, out: Path, seed: int, scale: int) -> None:
        if scale < 1:
            raise ValueError("scale must be a positive integer")
        self.out, self.seed, self.scale = out, seed, scale
        self.rng = random.Random(seed)
        self.people = IdentityFactory(seed)
        self.ground = Ground()

    def _time(self, i: int) -> str:
        return (BASE_TIME + timedelta(minutes=37 * i + self.rng.randrange(30))).isoformat(timespec="seconds")

    def _path(self, relpath: str) -> Path:
        path = self.out / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    # ---- CSV exports -------------------------------------------------------------------------------------------
    def _csv_bytes(self, header: list[str], rows: list[list[str]], codec: str) -> list[bytes]:
        lines = []
        for row in [header, *rows]:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(row)
            lines.append(buffer.getvalue().encode(codec))
        return lines

    def crm(self) -> None:
        relpath, n = "crm/customers_gb18030.csv", 200 * self.scale
        header = ["客户编号", "姓名", "身份证号", "手机", "邮箱", "地址", "注册日期", "会员等级", "备注"]
        rows = []
        for i in range(n):
            p = self.people.mainland()
            note = ""
            if i % 10 == 3:
                note, spans = fill("客户要求寄到{ADDRESS}", {"ADDRESS": self.people.mainland().address})
                self.ground.plant_spans(spans, relpath, row=i, column="备注")
            rows.append([f"C{i:07d}", p.name, p.id_number, p.mobile, p.email, p.address, self._time(i)[:10],
                         self.rng.choice(["普通", "银卡", "金卡", "钻石"]), note])
            for column, kind, value in (("姓名", "PERSON", p.name), ("身份证号", "CN_RESIDENT_ID", p.id_number),
                                        ("手机", "PHONE_NUMBER", p.mobile), ("邮箱", "EMAIL_ADDRESS", p.email),
                                        ("地址", "ADDRESS", p.address)):
                self.ground.plant(kind, value, relpath, row=i, column=column)
        self._path(relpath).write_bytes(b"".join(self._csv_bytes(header, rows, "gb18030")))
        self.ground.expect(relpath, {"crm_customers": n})

        # A UTF-8 export with ragged rows (a hand-edited file): those rows are quarantined, the rest lands.
        relpath, ragged = "crm/customers_2023_ragged.csv", {4, 11, 17}
        header = ["customer_id", "name", "mobile", "email", "city"]
        lines = [",".join(header) + "\n"]
        for i in range(20):
            p = self.people.mainland()
            fields = [f"L{i:05d}", p.name, p.mobile.replace(" ", ""), p.email, p.address[:3]]
            if i in ragged:
                fields = fields + ["extra"] if i % 2 else fields[:3]
            lines.append(",".join(fields) + "\n")
            for column, kind, value in (("name", "PERSON", p.name), ("mobile", "PHONE_NUMBER", fields[2]),
                                        ("email", "EMAIL_ADDRESS", p.email)):
                if column != "email" or len(fields) > 3:
                    self.ground.plant(kind, value, relpath, row=i, column=column, quarantined=i in ragged)
        self._path(relpath).write_text("".join(lines), encoding="utf-8")
        self.ground.expect(relpath, {"crm_customers": 20}, sorted(ragged), "ragged row")

        relpath = "crm/legacy_export.csv"  # binary content under a .csv name
        self._path(relpath).write_bytes(bytes(self.rng.randrange(256) for _ in range(4096)) + b"\x00" * 64)
        self.ground.expect(relpath, {"crm_customers": 1}, None, None, "binary content")
        relpath = "crm/empty_export.csv"
        self._path(relpath).write_bytes(b"")
        self.ground.expect(relpath, {"crm_customers": 1}, None, None, "empty file")

    def taiwan(self) -> None:
        header = ["客戶編號", "姓名", "身分證字號", "手機", "電子郵件", "地址", "建立日期"]

        def rows_for(relpath: str, n: int, prefix: str) -> list[list[str]]:
            rows = []
            for i in range(n):
                p = self.people.taiwan(big5=True)
                rows.append([f"{prefix}{i:06d}", p.name, p.id_number, p.mobile, p.email, p.address,
                             self._time(i)[:10]])
                for column, kind, value in (("姓名", "PERSON", p.name), ("身分證字號", "TW_NATIONAL_ID", p.id_number),
                                            ("手機", "PHONE_NUMBER", p.mobile), ("電子郵件", "EMAIL_ADDRESS", p.email),
                                            ("地址", "ADDRESS", p.address)):
                    self.ground.plant(kind, value, relpath, row=i, column=column)
            return rows

        relpath, n = "branch_tw/customers_big5.csv", 100 * self.scale
        self._path(relpath).write_bytes(b"".join(self._csv_bytes(header, rows_for(relpath, n, "TW"), "big5")))
        self.ground.expect(relpath, {"tw_branch_customers": n})

        # Lines with bytes that are invalid in the declared Big5 (a bad copy-paste): quarantined line by line.
        relpath, bad = "branch_tw/customers_big5_partial.csv", {5, 13}
        lines = self._csv_bytes(header, rows_for(relpath, 20, "TP"), "big5")
        for i in bad:
            lines[i + 1] = lines[i + 1].replace(b",", b",\x80\xff", 1)
            for entry in self.ground.entries:
                if entry["file"] == relpath and entry["location"].get("row") == i:
                    entry["location"]["quarantined"] = True
        self._path(relpath).write_bytes(b"".join(lines))
        self.ground.expect(relpath, {"tw_branch_customers": 20}, sorted(bad), "invalid bytes for big5")

    # ---- support tickets (JSONL) ------------------------------------------------------------------------------
    def tickets(self) -> None:
        relpath = "tickets/tickets_2024.jsonl"
        banking = corpora.banking77()
        dialogues = corpora.crosswoz()
        n_en, n_zh = 400 * self.scale, 60 * self.scale
        lines, clean = [], []  # clean: tickets without planted PII, which may be re-sent verbatim
        for i in range(n_en):
            text, intent = banking[(i * 7919) % len(banking)]
            record = {"ticket_id": f"T{i:08d}", "created_at": self._time(i), "channel":
                      self.rng.choice(["web", "email", "app", "phone"]), "language": "en", "category": intent,
                      "body": text}
            if self.rng.random() < 0.3:
                p = self.people.english() if self.rng.random() < 0.7 else self.people.mainland()
                addition, spans = fill(self.rng.choice(EN_TEMPLATES), _values(p, self.people.passport()))
                record["body"] = f"{text} {addition}"
                self.ground.plant_spans(shift(spans, len(text) + 1), relpath, row=len(lines), field="body")
            if self.rng.random() < 0.2:
                p = self.people.english()
                record["customer"] = {"name": p.name, "email": p.email, "tier": self.rng.choice(["basic", "plus"])}
                self.ground.plant("PERSON", p.name, relpath, row=len(lines), field="customer.name")
                self.ground.plant("EMAIL_ADDRESS", p.email, relpath, row=len(lines), field="customer.email")
            lines.append(record)
            if record["body"] == text and "customer" not in record:
                clean.append(len(lines) - 1)
        for j in range(n_zh):
            turns = list(dialogues[j % len(dialogues)])
            record = {"ticket_id": f"Z{j:08d}", "created_at": self._time(j), "channel": "chat", "language": "zh",
                      "category": "travel_assistance", "body": turns[0][1],
                      "conversation": [{"role": r, "content": t} for r, t in turns]}
            if self.rng.random() < 0.4:
                traditional = self.rng.random() < 0.3
                template = self.rng.choice(ZH_HANT_TEMPLATES if traditional else ZH_TEMPLATES)
                if not traditional:
                    p = self.people.mainland()
                else:
                    p = self.people.hong_kong() if "{HK_ID}" in template else self.people.taiwan()
                values = _values(p, self.people.passport())
                values.setdefault("CN_RESIDENT_ID", self.people.mainland().id_number)
                addition, spans = fill(template, values)
                record["body"] = turns[0][1] + addition
                record["conversation"][0]["content"] = record["body"]
                self.ground.plant_spans(shift(spans, len(turns[0][1])), relpath, row=len(lines), field="body")
                self.ground.plant_spans(shift(spans, len(turns[0][1])), relpath, row=len(lines),
                                        field="conversation[0].content")
            lines.append(record)
        for k in range(4 * self.scale):  # a customer re-sends the same ticket: an exact duplicate, a new id
            original = clean[(k * 97) % len(clean)]
            lines.append({**lines[original], "ticket_id": f"R{k:08d}", "created_at": self._time(n_en + k)})
            self.ground.duplicate("exact_resend", [(relpath, original), (relpath, len(lines) - 1)])
        self._canaries(lines, relpath, banking)
        self._path(relpath).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
        self.ground.expect(relpath, {"support_tickets": len(lines)})

        # An export cut off mid-write: truncated lines are quarantined, the rest lands.
        relpath, truncated = "tickets/tickets_truncated.jsonl", {7, 19}
        out = []
        for i in range(20):
            text, intent = banking[(i * 104729) % len(banking)]
            line = json.dumps({"ticket_id": f"X{i:06d}", "language": "en", "category": intent, "body": text})
            out.append(line[: len(line) // 2] if i in truncated else line)
        self._path(relpath).write_text("\n".join(out) + "\n", encoding="utf-8")
        self.ground.expect(relpath, {"support_tickets": 20}, sorted(truncated), "invalid JSON")

    def _canaries(self, lines: list[dict], relpath: str, banking: list) -> None:
        """Canary secrets for the memorisation test (Carlini et al., "The Secret Sharer"): random mobile numbers
        in one sentence, each planted in CANARY_REPEATS[i] different tickets. Sanitation must redact them; the
        training evaluation measures how far a trained model prefers them over random numbers of the same shape
        (exposure). Their own random stream keeps the rest of the estate unchanged."""
        rng = random.Random(f"canary:{self.seed}")
        for c, repeats in enumerate(CANARY_REPEATS):
            canary_id = f"canary-{c}-x{repeats}"
            secret = "1" + rng.choice("3456789") + "".join(str(rng.randrange(10)) for _ in range(9))
            for r in range(repeats):
                text, intent = banking[rng.randrange(len(banking))]
                body = f"{text} {CANARY_PREFIX}{secret}{CANARY_SUFFIX}"
                start = len(text) + 1 + len(CANARY_PREFIX)
                self.ground.plant("PHONE_NUMBER", secret, relpath, row=len(lines), field="body", start=start,
                                  end=start + len(secret), canary=canary_id, repeats=repeats, prefix=CANARY_PREFIX)
                lines.append({"ticket_id": f"C{c:02d}{r:04d}", "created_at": (BASE_TIME + timedelta(days=c, hours=r))
                              .isoformat(timespec="seconds"), "channel": "email", "language": "en",
                              "category": intent, "body": body})

    # ---- HR spreadsheet ---------------------------------------------------------------------------------------
    def hr(self) -> None:
        import xlsxwriter

        relpath, n, sheet = "hr/employees.xlsx", 50 * self.scale, "员工名册"
        workbook = xlsxwriter.Workbook(str(self._path(relpath)))
        workbook.set_properties({"created": BASE_TIME, "author": "HR"})
        ws = workbook.add_worksheet(sheet)
        header = ["工号", "姓名", "身份证号", "手机", "邮箱", "部门", "入职日期", "月薪", "工资卡号"]
        ws.write_row(0, 0, header)
        for i in range(n):
            p = self.people.mainland()
            row = [f"E{i:05d}", p.name, p.id_number, p.mobile, p.email,
                   self.rng.choice(["销售部", "客服部", "研发部", "财务部"]), self._time(i)[:10],
                   str(self.rng.randrange(8000, 60000)), p.bank_card]
            ws.write_row(i + 1, 0, row)
            for column, kind, value in (("姓名", "PERSON", p.name), ("身份证号", "CN_RESIDENT_ID", p.id_number),
                                        ("手机", "PHONE_NUMBER", p.mobile), ("邮箱", "EMAIL_ADDRESS", p.email),
                                        ("工资卡号", "BANK_CARD", p.bank_card)):
                self.ground.plant(kind, value, relpath, sheet=sheet, row=i, column=column)
        workbook.close()
        self.ground.expect(relpath, {"hr_employees": n})
        relpath = "hr/payroll_2023.xlsx"  # a spreadsheet that is not a zip archive
        self._path(relpath).write_bytes(b"PAYROLL 2023\tsee attached\n" * 8)
        self.ground.expect(relpath, {"hr_employees": 1}, None, None, "not a readable .xlsx workbook")

    # ---- e-mail archive ---------------------------------------------------------------------------------------
    def mail(self) -> None:
        relpath, n = "mail/support_inbox.mbox", 40 * self.scale
        chunks = []
        for k in range(n):
            p = self.people.mainland() if k % 3 else self.people.english()
            chinese = k % 3 != 0
            msg = EmailMessage()
            msg["From"] = Address(display_name=p.name, addr_spec=p.email)
            msg["To"] = Address(display_name="客服中心" if chinese else "Support", addr_spec="support@example.com")
            msg["Date"] = (BASE_TIME + timedelta(hours=k)).strftime("%a, %d %b %Y %H:%M:%S +0800")
            msg["Message-ID"] = f"<m{k:06d}@mail.example.com>"
            msg["Subject"] = f"关于订单 {10000 + k} 的退款问题" if chinese else f"Refund for order {10000 + k}"
            template = self.rng.choice(ZH_TEMPLATES if chinese else EN_TEMPLATES)
            values = _values(p, self.people.passport())
            values.setdefault("CN_RESIDENT_ID", self.people.mainland().id_number)
            addition, spans = fill(template, values)
            greeting = "您好，\n\n" if chinese else "Hello,\n\n"
            quoted = "\n\n> 上一封邮件：请提供订单号。\n> 客服中心\n" if chinese else \
                "\n\n> On Monday, Support wrote:\n> Please send your order number.\n"
            signature = f"\n-- \n{p.name}\n"
            body = greeting + addition + quoted + signature
            self.ground.plant("PERSON", p.name, relpath, message=k, part="from")
            self.ground.plant("EMAIL_ADDRESS", p.email, relpath, message=k, part="from")
            self.ground.plant_spans(shift(spans, len(greeting)), relpath, message=k, part="body")
            self.ground.plant("PERSON", p.name, relpath, message=k, part="body",
                              start=len(body) - len(p.name) - 1, end=len(body) - 1)
            charset = "gb18030" if chinese and k % 2 else "utf-8"
            msg.set_content(body, charset=charset, cte="base64" if k % 2 else "quoted-printable")
            if k % 4 == 1:
                html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines() if line) + \
                    "</body></html>"
                msg.add_alternative(html, subtype="html", charset="utf-8")
            if k % 5 == 2:
                q = self.people.mainland()
                attachment = f"姓名,手机\n{q.name},{q.mobile}\n"
                msg.add_attachment(attachment.encode("utf-8"), maintype="text", subtype="csv",
                                   filename="客户名单.csv")
                self.ground.plant("PERSON", q.name, relpath, message=k, part="attachment:客户名单.csv")
                self.ground.plant("PHONE_NUMBER", q.mobile, relpath, message=k, part="attachment:客户名单.csv")
            if k % 7 == 3:
                msg.add_attachment(b"%PDF-1.4\n" + bytes(self.rng.randrange(256) for _ in range(512)),
                                   maintype="application", subtype="pdf", filename="invoice.pdf")
            for depth, part in enumerate(p for p in msg.walk() if p.is_multipart()):
                part.set_boundary(f"=_waterworks_{k:06d}_{depth}")  # deterministic, unlike the default
            data = msg.as_bytes()
            data = re.sub(rb"(?m)^(>*From )", rb">\1", data)
            chunks.append(b"From MAILER-DAEMON Mon Jan  1 09:00:00 2024\n" + data.rstrip(b"\n") + b"\n\n")
        self._path(relpath).write_bytes(b"".join(chunks))
        self.ground.expect(relpath, {"mail_archive": n})

    # ---- documents --------------------------------------------------------------------------------------------
    def documents(self) -> None:
        faq = corpora.covid_faq()
        per_file = 20
        n_files = max(1, len(faq) // per_file) * self.scale
        for f in range(n_files):
            relpath = f"docs/faq/covid_faq_{f:04d}.md"
            pairs = [faq[i] for i in self.rng.sample(range(len(faq)), per_file)]  # distinct pages at any scale
            blocks = [f"## {q}\n\n{a}\n\n*Source: {src}*\n\n" for q, a, src in pairs]
            text = f"# COVID-19 FAQ, part {f + 1}\n\n" + "".join(blocks)
            if f % 3 == 0:
                p = self.people.english()
                contact, spans = fill("Questions about this page: {PERSON}, {EMAIL_ADDRESS}.\n",
                                      {"PERSON": p.name, "EMAIL_ADDRESS": p.email})
                self.ground.plant_spans(shift(spans, len(text)), relpath, row=0, field="body")
                text += contact
            self._path(relpath).write_text(text, encoding="utf-8")
            self.ground.expect(relpath, {"knowledge_base": 1})
            if f % 6 == 1:  # an older revision left in an archive folder: a few words differ
                copy = f"docs/faq/archive/covid_faq_{f:04d}_rev1.md"
                self._path(copy).write_text(edit_words(text, self.rng, 0.012), encoding="utf-8")
                self._planted_copy("small_edits", relpath, copy)
            elif f % 6 == 4:  # the same questions, re-ordered by another editor
                copy = f"docs/faq/archive/covid_faq_{f:04d}_sorted.md"
                self.rng.shuffle(blocks)
                self._path(copy).write_text(f"# COVID-19 FAQ, part {f + 1}\n\n" + "".join(blocks), encoding="utf-8")
                self._planted_copy("reordered", relpath, copy)
        self._service_records()
        products = {"企业云存储": "按需扩容的文件存储，支持版本管理与跨地域同步。",
                    "智能客服机器人": "基于企业知识库自动回答常见问题，复杂问题转人工。",
                    "数据安全网关": "统一管控数据出入，自动识别并脱敏敏感字段。",
                    "移动办公套件": "审批、考勤、日程与即时通讯整合在一个应用中。",
                    "财务对账平台": "自动匹配银行流水与订单，生成差异报告。"}
        for d, (name, pitch) in enumerate(products.items()):
            relpath = f"docs/products/product_{d:03d}.html"
            p = self.people.mainland()
            head = (f"<html><head><meta charset=\"utf-8\"><title>产品说明：{name}</title></head><body>"
                    f"<h1>{name}</h1><p>{pitch}</p><p>")
            contact, spans = fill("联系人：{PERSON}，电话：{PHONE_NUMBER}", {"PERSON": p.name, "PHONE_NUMBER": p.mobile})
            self._path(relpath).write_text(head + contact + "</p></body></html>\n", encoding="utf-8")
            self.ground.plant_spans(shift(spans, len(head)), relpath, row=0, field="body")
            self.ground.expect(relpath, {"knowledge_base": 1})
        topics = ("请于本周五前提交季度数据报表。", "下周一起启用新的报销系统，旧系统同时停用。", "本月二十日晚间机房断电检修，请提前保存工作。",
                  "年度信息安全培训将于下月举行，请全员参加。", "春节假期安排如下：初一至初七放假，初八正常上班。")
        for d, topic in enumerate(topics):  # legacy notices saved by a Windows editor in GB18030
            relpath = f"docs/notices/notice_{d:03d}.txt"
            p = self.people.mainland()
            head = f"通知（第{d + 1}号）\n\n各部门：\n\n{topic}如有疑问请联系"
            contact, spans = fill("{PERSON}（{PHONE_NUMBER}）。\n", {"PERSON": p.name, "PHONE_NUMBER": p.mobile})
            self._path(relpath).write_bytes((head + contact + "\n行政部\n").encode("gb18030"))
            self.ground.plant_spans(shift(spans, len(head)), relpath, row=0, field="body")
            self.ground.expect(relpath, {"knowledge_base": 1})

    def _planted_copy(self, kind: str, original: str, copy: str) -> None:
        self.ground.expect(copy, {"knowledge_base": 1})
        self.ground.duplicate(kind, [(original, 0), (copy, 0)])

    def _service_records(self) -> None:
        """Chinese service-desk transcripts (CrossWOZ dialogues, no planted PII), with planted copies: a
        Traditional-script copy from the Taiwan office, an edited copy, a re-ordered copy."""
        dialogues = corpora.crosswoz()
        roles = {"user": "客户", "assistant": "客服"}
        for d in range(20 * self.scale):
            relpath = f"docs/service/record_{d:05d}.md"
            chosen = self.rng.sample(range(len(dialogues)), 3)
            sections = ["".join(f"{roles[r]}：{t}\n" for r, t in dialogues[i]) for i in chosen]
            title = f"# 客服记录 {d + 1:05d}\n\n"
            text = title + "\n".join(sections)
            self._path(relpath).write_text(text, encoding="utf-8")
            self.ground.expect(relpath, {"knowledge_base": 1})
            if d % 5 == 1:
                copy = f"docs/service/tw/record_{d:05d}.md"
                self._path(copy).write_text(to_traditional(text), encoding="utf-8")
                self._planted_copy("traditional_copy", relpath, copy)
            elif d % 5 == 2:
                copy = f"docs/service/drafts/record_{d:05d}_draft.md"
                self._path(copy).write_text(edit_chars(text, self.rng, 0.012), encoding="utf-8")
                self._planted_copy("small_edits", relpath, copy)
            elif d % 5 == 3:
                copy = f"docs/service/drafts/record_{d:05d}_merged.md"
                self._path(copy).write_text(title + "\n".join(reversed(sections)), encoding="utf-8")
                self._planted_copy("reordered", relpath, copy)

    # ---- ERP database -----------------------------------------------------------------------------------------
    def erp(self) -> None:
        relpath = "erp/erp.sqlite"
        path = self._path(relpath)
        path.unlink(missing_ok=True)
        n_customers, n_orders = 100 * self.scale, 300 * self.scale
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, phone TEXT, email TEXT,"
                       " id_number TEXT, address TEXT, created_at TEXT)")
            db.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, product TEXT,"
                       " amount REAL, status TEXT, created_at TEXT, shipping_address TEXT)")
            customers = []
            for i in range(n_customers):
                p = self.people.mainland()
                customers.append((i + 1, p.name, p.mobile, p.email, p.id_number, p.address, self._time(i)))
                for column, kind, value in (("name", "PERSON", p.name), ("phone", "PHONE_NUMBER", p.mobile),
                                            ("email", "EMAIL_ADDRESS", p.email),
                                            ("id_number", "CN_RESIDENT_ID", p.id_number),
                                            ("address", "ADDRESS", p.address)):
                    self.ground.plant(kind, value, relpath, table="customers", row=i, column=column)
            db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?)", customers)
            orders = []
            for j in range(n_orders):
                c = customers[self.rng.randrange(n_customers)]
                orders.append((j + 1, c[0], self.rng.choice(["云存储", "客服机器人", "安全网关"]),
                               round(self.rng.uniform(99, 9999), 2), self.rng.choice(["paid", "shipped", "refunded"]),
                               self._time(j), c[5]))
                self.ground.plant("ADDRESS", c[5], relpath, table="orders", row=j, column="shipping_address")
            db.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?)", orders)
        self.ground.expect(relpath, {"erp_customers": n_customers, "erp_orders": n_orders})

    def stray(self) -> None:
        relpath = "inbox/scanned_contract.pdf"  # no source claims it: the inventory quarantines it
        self._path(relpath).write_bytes(b"%PDF-1.4\n%scanned\n" + bytes(self.rng.randrange(256) for _ in range(256)))
        self.ground.expect(relpath, {}, None, None, "no source in the sources config matches this path")


REPLACEMENT_WORDS = ("the", "a", "new", "please", "also", "may", "should", "very", "all", "more")
REPLACEMENT_CHARS = "的了是在有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"


def edit_words(text: str, rng: random.Random, rate: float) -> str:
    """Small edits, as a later revision makes: about ``rate`` of the words replaced or dropped."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * rate))):
        words[i] = rng.choice(REPLACEMENT_WORDS) if rng.random() < 0.7 else ""
    return " ".join(w for w in words if w)


def edit_chars(text: str, rng: random.Random, rate: float) -> str:
    """About ``rate`` of the Chinese characters replaced by others."""
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    for i in rng.sample(han, max(1, int(len(han) * rate))):
        chars[i] = rng.choice(REPLACEMENT_CHARS)
    return "".join(chars)


@lru_cache(maxsize=1)
def _s2tw():
    import opencc

    return opencc.OpenCC("s2tw")


def to_traditional(text: str) -> str:
    return _s2tw().convert(text)


PARTS = ("crm", "taiwan", "tickets", "hr", "mail", "documents", "erp", "stray")


def generate_estate(out: Path | str, seed: int = 7, scale: int = 1, parts: tuple[str, ...] = PARTS) -> dict:
    """Write the estate under ``out`` (created) and return the summary that estate.json holds. ``parts`` limits
    it to some of its parts (benchmarks of one stage); the full estate is the default."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown estate part(s) {unknown}; known: {list(PARTS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    writer = EstateWriter(out, seed, scale)
    for name in PARTS:
        if name in parts:
            getattr(writer, name)()
    writer.ground.write(out, seed, scale)
    return json.loads((out / "estate.json").read_text(encoding="utf-8"))
