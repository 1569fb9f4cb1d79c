"""Deployment bundles, one folder per target and registered model version, built from what the registry holds
(models leave the plant only through MLflow):

- ``server`` (private cloud): the chat model as a plain Hugging Face folder (merged safetensors, tokenizer,
  chat template) with a config for vLLM-compatible servers; the classifier as its MLflow pyfunc model, served by
  ``mlflow models serve`` — each with ``serve.sh``;
- ``edge``: the classifier as an int8 ONNX model (onnxruntime) with its tokenizer and labels, and the parity
  check of the export against the PyTorch model on the same inputs;
- ``cloud`` (public cloud): the registry URI that a managed endpoint deploys from, with the hashes of the
  registered files.

Every bundle has ``manifest.json``: sha256 and size of every file, the registered version and its registry
URI, base model and hash, dataset digests, code version, data classification and allowed targets. A bundle is
written into a temporary folder and renamed into place; an existing bundle of the same version is kept."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from waterworks.governance.files import build_folder, file_sha256
from waterworks.governance.policy import Policy, decide_targets

from .config import EdgeBundle, ServerBundle

SERVER, EDGE, CLOUD = "server", "edge", "cloud"
TARGET_OF = {SERVER: "private_cloud", EDGE: "edge", CLOUD: "public_cloud"}
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"  # the manifest's hashes in sha256sum's format: serve.sh checks them before serving


@dataclass(frozen=True)
class Bundle:
    target: str
    name: str
    version: str
    path: Path
    manifest: dict
    reused: bool

    @property
    def bytes(self) -> int:
        return sum(f["bytes"] for f in self.manifest["files"])


def file_list(folder: Path) -> list[dict]:
    return [{"path": str(p.relative_to(folder)), "sha256": file_sha256(p), "bytes": p.stat().st_size}
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in (MANIFEST, CHECKSUMS)
            and "__pycache__" not in p.parts]


def files_digest(folder: Path) -> str:
    """One sha256 over every file's path and sha256: what a served model folder must match."""
    return hashlib.sha256(json.dumps([(f["path"], f["sha256"]) for f in file_list(folder)]).encode()).hexdigest()


def verify_bundle(folder: Path) -> list[str]:
    """What differs between a bundle and its manifest (missing, changed or extra files); empty when intact."""
    manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    recorded = {f["path"]: f["sha256"] for f in manifest["files"]}
    present = {f["path"]: f["sha256"] for f in file_list(Path(folder))}
    problems = [f"missing: {p}" for p in sorted(set(recorded) - set(present))]
    problems += [f"changed: {p}" for p in sorted(set(recorded) & set(present)) if recorded[p] != present[p]]
    return problems + [f"not in the manifest: {p}" for p in sorted(set(present) - set(recorded))]


def provenance(name: str, version, lineage: dict, policy: Policy, target: str) -> dict:
    decision = decide_targets(lineage, [TARGET_OF[target]], policy)
    base = lineage.get("base_model") or {}
    return {
        "registered_model": name, "version": str(version.version), "registry_uri": f"models:/{name}/{version.version}",
        "run_id": version.run_id, "model_key": version.tags.get("waterworks.model_key"),
        "base_model": {"origin": base.get("origin"), "sha256": base.get("sha256")} if base else None,
        "datasets": [{"name": d["name"], "version": d["version"], "digest": d["digest"]}
                     for d in lineage.get("datasets", [])],
        "code_version": lineage.get("code_version", "unknown"),
        "classification": decision.classification, "allowed_targets": list(decision.allowed),
        "target": TARGET_OF[target],
    }


def write_bundle(bundles_dir: Path, target: str, name: str, version: str, header: dict,
                 build: Callable[[Path], dict]) -> Bundle:
    """``build(folder) -> extra manifest fields`` fills a fresh folder; the manifest is written last."""
    home = Path(bundles_dir) / target / name
    final = home / f"v{version}"
    if (final / MANIFEST).is_file():
        return Bundle(target, name, version, final, json.loads((final / MANIFEST).read_text(encoding="utf-8")), True)
    def fill(folder: Path) -> dict:
        extra = build(folder)
        manifest = {"bundle": target, **header, **extra, "files": file_list(folder)}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        (folder / CHECKSUMS).write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in manifest["files"])
                                        + f"{file_sha256(folder / MANIFEST)}  {MANIFEST}\n", encoding="utf-8")
        return manifest

    manifest = build_folder(final, fill)
    return Bundle(target, name, version, final, manifest, False)


_VERIFY = ('(cd "$here" && sha256sum --quiet --strict -c SHA256SUMS) || '
           '{ echo "bundle files differ from their manifest: refusing to serve" >&2; exit 1; }')


def _script(path: Path, lines: list[str]) -> None:
    """A serving script that first checks every file of its bundle against the manifest's hashes."""
    path.write_text("#!/bin/sh\nset -e\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n" + _VERIFY + "\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o755)


def build_chat_server(model_folder: Path, served_name: str, settings: ServerBundle) -> Callable[[Path], dict]:
    """Merged weights, tokenizer, chat template and a vLLM config (``vllm serve <bundle> --config vllm.yaml``)."""
    import yaml

    def build(out: Path) -> dict:
        model_dir = out / "model"
        shutil.copytree(model_folder, model_dir, ignore=shutil.ignore_patterns("training.json", "params.json",
                                                                               "metrics.jsonl", "lineage.json"))
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        template = model_dir / "chat_template.jinja"
        if not template.is_file():
            tokenizer_config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
            from waterworks.models.chat_format import CHAT_TEMPLATE

            template.write_text(tokenizer_config.get("chat_template") or CHAT_TEMPLATE, encoding="utf-8")
        max_len = min(settings.max_model_len, int(config.get("max_position_embeddings", settings.max_model_len)))
        serving = {"served-model-name": served_name, "dtype": settings.dtype, "max-model-len": max_len,
                   "chat-template": "model/chat_template.jinja", "host": "127.0.0.1", "port": 8000,
                   "generation-config": "auto"}
        (out / "vllm.yaml").write_text(yaml.safe_dump(serving, sort_keys=True), encoding="utf-8")
        _script(out / "serve.sh", ['cd "$here"', 'exec vllm serve "$here/model" --config "$here/vllm.yaml" "$@"'])
        return {"format": "huggingface safetensors + vLLM config", "architecture": config.get("architectures"),
                "serving": serving}

    return build


def build_pyfunc_server(mlflow_model: Path, port: int = 5001) -> Callable[[Path], dict]:
    """The registered MLflow pyfunc model as downloaded, served by ``mlflow models serve`` without creating an
    environment (the serving host installs ``requirements.txt`` itself)."""

    def build(out: Path) -> dict:
        shutil.copytree(mlflow_model, out / "mlflow_model", ignore=shutil.ignore_patterns("__pycache__"))
        _script(out / "serve.sh", [f'exec mlflow models serve -m "$here/mlflow_model" --env-manager local '
                                   f'-h 127.0.0.1 -p "${{PORT:-{port}}}" "$@"'])
        return {"format": "mlflow pyfunc", "serving": {"command": "mlflow models serve --env-manager local",
                                                       "endpoint": "POST /invocations"}}

    return build


def build_edge(classifier_folder: Path, settings: EdgeBundle, parity_texts: list[str]) -> Callable[[Path], dict]:
    """float32 ONNX (checked against PyTorch), then int8 (checked too); the bundle keeps the int8 model."""

    def build(out: Path) -> dict:
        from waterworks.models.export import export_classifier_onnx, parity, quantize_int8

        scratch = out.parent / f"{out.name}.fp32"
        try:
            fp32 = export_classifier_onnx(classifier_folder, scratch / "model.onnx", settings.opset)
            fp32_parity = parity(classifier_folder, fp32, parity_texts, settings.tie_margin)
            int8 = quantize_int8(fp32, out / "model.int8.onnx")
            int8_parity = parity(classifier_folder, int8, parity_texts, settings.tie_margin)
            fp32_bytes = fp32.stat().st_size
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        problems = []
        if fp32_parity.max_logit_delta > settings.fp32_max_logit_delta:
            problems.append(f"float32 export differs from PyTorch by {fp32_parity.max_logit_delta:.3g} "
                            f"(> {settings.fp32_max_logit_delta})")
        if int8_parity.decisive_agreement < settings.min_label_agreement:
            problems.append(f"int8 labels agree on {int8_parity.decisive_agreement:.1%} of the "
                            f"{int8_parity.decisive_examples} decisive examples (< {settings.min_label_agreement:.0%})")
        if int8_parity.max_probability_delta > settings.max_probability_delta:
            problems.append(f"int8 probabilities differ by up to {int8_parity.max_probability_delta:.3g} "
                            f"(> {settings.max_probability_delta})")
        if problems:
            raise ValueError("edge export failed its parity check: " + "; ".join(problems))
        encoder = classifier_folder / "encoder"
        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
            if (encoder / name).is_file():
                shutil.copy2(encoder / name, out / name)
        shutil.copy2(classifier_folder / "classifier.json", out / "classifier.json")
        report = {"float32": fp32_parity.as_dict(), "int8": int8_parity.as_dict(),
                  "tolerance": settings.model_dump(), "float32_bytes": fp32_bytes}
        (out / "parity.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        return {"format": "onnx int8 (onnxruntime dynamic quantization)", "opset": settings.opset,
                "inputs": ["input_ids", "attention_mask"], "output": "logits", "parity": report}

    return build


def build_cloud(mlflow_model: Path, registry_uri: str) -> Callable[[Path], dict]:
    """No weights: the registry URI a managed endpoint deploys from, and the hashes of the registered files so
    that what the cloud pulls can be checked against what was promoted."""

    def build(out: Path) -> dict:
        files = file_list(mlflow_model)
        (out / "registered_files.json").write_text(json.dumps(files, indent=1), encoding="utf-8")
        (out / "DEPLOY.md").write_text(
            f"# Public-cloud deployment of {registry_uri}\n\n"
            f"- Container image: `mlflow models build-docker -m {registry_uri} -n <image>`\n"
            f"- Managed endpoint (SageMaker, Azure ML, Databricks): deploy `{registry_uri}` with "
            "`mlflow deployments create -t <target> -m <uri>`\n"
            "- Check the pulled files against `registered_files.json` (sha256).\n", encoding="utf-8")
        return {"format": "mlflow registry reference", "registered_files_bytes": sum(f["bytes"] for f in files)}

    return build


def champion_bundles(target: str, lake, client, tracking_uri: str, config, bundles_dir: Path, policy,
                     log) -> tuple[list[Bundle], list[tuple[str, str]]]:
    """Bundles of every registered product's champion meant for ``target``; (bundles, [(product, why it was
    left out)])."""
    from ..products import registered_products
    from .lineage import run_lineage
    from .registry import CHAMPION, alias_version, download_model, hf_folder_of

    bundles, skipped = [], []
    for product in registered_products():
        plan = config.plan(product.name)
        if TARGET_OF[target] not in plan.targets:
            skipped.append((product.name, f"not meant for {TARGET_OF[target]} (targets: {', '.join(plan.targets)})"))
            continue
        if target == EDGE and not product.edge:
            skipped.append((product.name, "no edge export for it yet"))
            continue
        champion = alias_version(client, plan.registered_name, CHAMPION)
        if champion is None:
            skipped.append((product.name, "no champion (promotion refused or not run)"))
            continue
        with tempfile.TemporaryDirectory() as scratch:
            lineage = run_lineage(client, champion.run_id)
            header = provenance(plan.registered_name, champion, lineage, policy, target)
            if TARGET_OF[target] not in header["allowed_targets"]:
                skipped.append((product.name, f"policy: {header['classification']} data may not go to "
                                f"{TARGET_OF[target]}"))
                continue
            mlflow_model = download_model(plan.registered_name, champion.version, tracking_uri,
                                          Path(scratch) / "model")
            if target == SERVER:
                build = (build_chat_server(hf_folder_of(mlflow_model), plan.registered_name, config.bundles.server)
                         if product.server == "vllm" else build_pyfunc_server(mlflow_model))
            elif target == EDGE:
                from ..datasets.store import read_split

                texts = read_split(lake, product.dataset, "test")["text"].to_list()[:config.bundles.edge.parity_examples]
                build = build_edge(hf_folder_of(mlflow_model), config.bundles.edge, texts)
            else:
                build = build_cloud(mlflow_model, f"models:/{plan.registered_name}@{CHAMPION}")
            bundle = write_bundle(Path(bundles_dir), target, plan.registered_name, champion.version,
                                  header, build)
        log(f"{target} bundle of {plan.registered_name} v{champion.version}: {bundle.path} "
            f"({bundle.bytes / 1e6:.1f} MB{', existing' if bundle.reused else ''})")
        bundles.append(bundle)
    return bundles, skipped
