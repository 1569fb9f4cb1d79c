"""The right to erasure, end to end on the demo estate (tiny preset, a reduced estate so it stays fast): a person
with a national ID, a phone and a name in three sources (CRM export in GB18030, a support ticket, a mail), the
plant run, ``waterworks forget`` by the ID — then no byte of any of their values anywhere under the home (landing
included), the models trained on their rows retrained or retired, the report listing the request, a re-delivery
of the original files keeping them out, and a second run that adds nothing."""

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from waterworks.governance.pii.checksums import cn_resident_id_check_char

NAME, PHONE, EMAIL = "欧阳明华", "13912345678", "ouyang.minghua@example.cn"
ID = "11010519850307" + "121"
ID += cn_resident_id_check_char(ID)
VALUES = (NAME, PHONE, ID, EMAIL)
KEPT_SOURCES = ("crm", "tickets", "mail", "docs")
WEIGHTS = (".safetensors", ".bin", ".pt", ".onnx", ".pkl")


def plant_subject(landing: Path) -> list[str]:
    """The subject's rows appended to three delivered files; returns their landing paths."""
    crm = landing / "crm/customers_gb18030.csv"
    row = f"C9999999,{NAME},{ID},{PHONE},{EMAIL},北京市朝阳区建国路88号,2024-03-01,金卡,老客户\r\n"
    data = crm.read_bytes()
    crm.write_bytes(data + (b"" if data.endswith(b"\n") else b"\r\n") + row.encode("gb18030"))
    tickets = landing / "tickets/tickets_2024.jsonl"
    ticket = {"ticket_id": "T99999999", "created_at": "2024-03-02T10:00:00", "channel": "phone", "language": "zh",
              "category": "card_arrival", "body": f"您好，我是{NAME}，手机{PHONE}，我的新卡一直没有收到，请帮忙查询。"}
    with tickets.open("a", encoding="utf-8") as out:
        out.write(json.dumps(ticket, ensure_ascii=False) + "\n")
    mail = landing / "mail/support_inbox.mbox"
    message = (f"From MAILER-DAEMON Sat Mar  2 11:00:00 2024\nFrom: {NAME} <{EMAIL}>\nTo: Support <support@example.com>\n"
               "Date: Sat, 02 Mar 2024 11:00:00 +0800\nMessage-ID: <m999999@mail.example.com>\nSubject: 核实身份\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n"
               f"您好，我的身份证号是{ID}，请核实后处理我的退款。\n\n{NAME}\n\n")
    with mail.open("a", encoding="utf-8") as out:
        out.write(message)
    return ["crm/customers_gb18030.csv", "tickets/tickets_2024.jsonl", "mail/support_inbox.mbox"]


def places_holding(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """An independent scan: every file under ``root`` (Parquet read value by value, anything else as bytes in
    UTF-8, GB18030 and Big5) that holds one of the values. Model weights are floats, not text."""
    forms = {v.encode(e) for v in VALUES for e in ("utf-8", "gb18030", "big5") if _encodable(v, e)}
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or path.suffix in WEIGHTS or relative.startswith(skip):
            continue
        if path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist())
            hit = any(v in text for v in VALUES)
        else:
            data = path.read_bytes()
            hit = any(f in data for f in forms)
        if hit:
            found.append(relative)
    return found


def _encodable(value: str, encoding: str) -> bool:
    try:
        value.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


@pytest.fixture(scope="module")
def erased(tmp_path_factory, estate_dir):
    from waterworks.pipelines.erasure import forget_subject, subject_file_for
    from waterworks.pipelines.run import run_plant
    from waterworks.pipelines.settings import Settings

    home = tmp_path_factory.mktemp("erasure")
    landing = home / "landing"
    shutil.copytree(estate_dir, landing)
    for folder in landing.iterdir():
        if folder.is_dir() and folder.name not in KEPT_SOURCES:
            shutil.rmtree(folder)
    for ground_truth in ("manifest.jsonl", "estate.json"):  # a customer's estate: no planted canaries of ours
        (landing / ground_truth).unlink()
    documents = sorted(p for p in (landing / "docs").rglob("*") if p.is_file())
    for document in [d for i, d in enumerate(documents) if i % 4]:
        document.unlink()  # a quarter of the knowledge base: each file is an ingest run
    delivered = plant_subject(landing)
    originals = tmp_path_factory.mktemp("originals")  # the customer's own copies, outside the plant
    for relpath in delivered:
        (originals / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(landing / relpath, originals / relpath)
    settings = Settings(home=home, training_preset="tiny")
    first = run_plant(settings, log=lambda line: None)
    assert first.ok, first.errors or first.failed
    before = places_holding(home)
    entry, rebuild = forget_subject(settings, subject_file_for(settings, ID), actor="test DPO")
    return settings, originals, delivered, before, entry, rebuild


def test_the_plant_held_the_subject_in_every_zone_before(erased):
    _, _, _, before, _, _ = erased
    assert any(p.startswith("landing/") for p in before) and any(p.startswith("lake/raw/") for p in before)
    assert any(p.startswith("lake/purified/") for p in before)


def test_canaries_were_planted_and_measured_on_an_estate_without_ground_truth(erased):
    """The datasets stage's own canaries: the only ones here (the landing folder has no manifest), evaluated in
    both language models; the privacy gate passed on them, so the chat model has a champion."""
    settings, _, _, _, entry, _ = erased
    evaluations = [json.loads(p.read_text())["result"] for p in (settings.models_dir / "lm_evaluation").glob("*.json")]
    assert evaluations and all(e["canaries_planted"] == 18 for e in evaluations)  # 9 in corpus, 9 in chat
    assert all(not e["canaries_extractable"] for e in evaluations)
    assert entry["champions_after"].get("waterworks-chat") is not None


def test_after_forget_no_byte_of_their_values_remains_under_the_home(erased):
    settings, _, _, _, entry, rebuild = erased
    assert rebuild.ok, rebuild.errors or rebuild.failed
    assert places_holding(settings.home) == []
    assert entry["status"] == "completed" and entry["residual"] == []


def test_the_request_is_ledgered_by_keyed_hash_with_counts_and_never_the_value(erased):
    settings, _, _, _, entry, _ = erased
    assert entry["by"] == "test DPO" and len(entry["subject_hash"]) == 32
    assert entry["identifiers"] >= 3  # the ID, the phone and the e-mail found from one value
    assert entry["zones"]["raw"]["rows_removed"] >= 3 and entry["zones"]["purified"]["rows_removed"] >= 3
    assert {e["file"] for e in entry["landing"]} == {"crm/customers_gb18030.csv", "tickets/tickets_2024.jsonl",
                                                     "mail/support_inbox.mbox"}
    text = json.dumps(entry, ensure_ascii=False)
    assert not any(v in text for v in VALUES)


def test_models_trained_on_their_rows_were_retired_and_retrained(erased):
    settings, _, _, _, entry, _ = erased
    from waterworks.assets.tracking import mlflow_client

    assert entry["datasets_deleted"] and entry["models_retired"]
    client = mlflow_client(str(settings.mlflow_tracking_uri))
    for model in entry["models_retired"]:
        for version in model["registered"]:
            tags = client.get_model_version(version["registered_name"], version["version"]).tags
            assert tags["waterworks.retired"] == entry["request_id"]
            assert not client.get_model_version(version["registered_name"], version["version"]).aliases
    for name, champion in entry["champions_after"].items():  # a retrained champion, or an empty alias
        retired = {v["version"] for m in entry["models_retired"] for v in m["registered"] if v["registered_name"] == name}
        assert champion is None or champion not in retired, name
    for dataset in entry["datasets_deleted"]:
        assert not (Path(settings.lake_uri) / "datasets" / dataset).exists()


def test_the_compliance_report_lists_the_request(erased):
    settings, _, _, _, entry, _ = erased
    report = json.loads((settings.reports_dir / "latest.json").read_text())
    facts = json.loads(Path(report["json"]).read_text())
    requests = {r["request_id"]: r for r in facts["erasure"]["requests"]}
    assert requests[entry["request_id"]]["status"] == "completed"
    articles = {f"{a['framework']} {a['article']}": a for a in facts["impact_assessment"]["articles"]}
    assert "GDPR Art. 17" in articles and "PIPL Art. 47" in articles


def test_a_re_delivery_does_not_bring_them_back_and_a_second_run_adds_nothing(erased):
    from waterworks.pipelines.run import run_plant

    settings, originals, delivered, _, _, _ = erased
    for relpath in delivered:
        shutil.copy2(originals / relpath, settings.landing_dir / relpath)
    again = run_plant(settings, log=lambda line: None)
    assert again.ok, again.errors or again.failed
    assert sorted(again.ingested) and places_holding(settings.home, skip=("landing/",)) == []
    third = run_plant(settings, log=lambda line: None, ingest_only=True)
    assert third.ingested == []


def test_retention_with_the_clock_moved_forward_deletes_what_expired_and_keeps_it_out(erased):
    """800 days on: tickets and mail (730-day retention) expire, the CRM (1095) and the knowledge base do not.
    The sweep is a real materialization of ``retention_sweep``; a re-ingest reads the expired files and keeps
    nothing of them."""
    from datetime import UTC, datetime, timedelta

    import dagster as dg

    from waterworks.assets.erasure.defs import retention_sweep
    from waterworks.assets.erasure.ledger import read_ledger
    from waterworks.assets.lake import Lake
    from waterworks.pipelines.resources import resources_for
    from waterworks.pipelines.run import run_plant

    settings = erased[0]
    lake = Lake(str(settings.lake_uri))
    assert lake.list_parquet("raw", "support_tickets/") and lake.list_parquet("raw", "mail_archive/")
    as_of = (datetime.now(UTC) + timedelta(days=800)).isoformat()
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        result = dg.materialize([retention_sweep], resources=resources_for(settings), instance=instance,
                                run_config={"ops": {"retention_sweep": {"config": {"as_of": as_of}}}})
    assert result.success
    sweep = [e for e in read_ledger(lake) if e["kind"] == "retention"][-1]
    assert sweep["expired_files"] and sweep["zones"]["purified"]["rows_removed"] > 0
    assert not lake.list_parquet("raw", "support_tickets/") and not lake.list_parquet("raw", "mail_archive/")
    assert lake.list_parquet("raw", "crm_customers/") and lake.list_parquet("raw", "knowledge_base/")
    documents = lake.read_table("purified", "documents").to_pylist()
    assert {d["source_id"] for d in documents} == {"knowledge_base"}
    assert sweep["datasets_deleted"] and sweep["models_retired"]
    again = run_plant(settings, log=lambda line: None, ingest_only=True)
    assert again.ok and any(label.startswith("support_tickets:") for label in again.ingested)
    assert all(lake.row_count("raw", p) == 0 for p in lake.list_parquet("raw", "support_tickets/"))
