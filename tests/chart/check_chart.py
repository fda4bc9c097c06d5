#!/usr/bin/env python3
"""Checks the Lookout Helm chart (deploy/helm/lookout) with the real Helm SDK.

helm-python-sdk binds Helm v4's Go SDK (bundled as libhelm_c.so), so no helm binary is needed. For the chart
defaults and every value set in tests/chart/values/ this script renders the chart, lints it, validates every
object (core kinds with kubernetes-validate --strict, Traefik and Prometheus Operator kinds against the CRD schemas
in $LOOKOUT_SHARED/reference/crds) and asserts what the chart promises. Options:

  --emit-configs DIR   write each rendered lookout.yml to DIR/<case>.yml (the Rust e2e test parses them)
  --check-manifest     fail when deploy/kubernetes/lookout.yaml differs from a fresh render of the defaults
  --write-manifest     regenerate deploy/kubernetes/lookout.yaml

Prints "N passed, N failed" last and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import os
import re
import sys
import traceback
from pathlib import Path

try:
    import helm_python as helm
    import jsonschema
    import kubernetes_validate.utils as kv
    import yaml
except ImportError as e:
    sys.exit(f"check_chart: {e}; install the pinned packages: "
             "python3 -m pip install helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 jsonschema==4.26.0")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/lookout"
VALUES_DIR = Path(__file__).resolve().parent / "values"
MANIFEST = ROOT / "deploy/kubernetes/lookout.yaml"
RELEASE, NAMESPACE = "lookout", "monitoring"
KUBE_VERSIONS = ["1.30", kv.major_minor(kv.latest_version())]
CRD_GROUPS = ("traefik.io", "monitoring.coreos.com")
# Object order in the plain manifest: what others refer to comes first.
KIND_ORDER = ["ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding", "Service", "StatefulSet",
              "Middleware", "IngressRoute", "Ingress"]

EXPECTED_RULES = [
    {"apiGroups": [""], "resources": ["nodes", "nodes/metrics", "services", "endpoints", "pods", "namespaces",
                                      "persistentvolumeclaims", "persistentvolumes"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors", "podmonitors", "prometheusrules"],
     "verbs": ["get", "list", "watch"]},
    {"nonResourceURLs": ["/metrics", "/metrics/cadvisor"], "verbs": ["get"]},
]


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, fn, *args) -> object:
        """Runs fn(*args); an exception or failed assert is one failure, reported with its message."""
        try:
            out = fn(*args)
        except AssertionError as e:
            self.failed += 1
            print(f"FAIL {name}: {e}")
            return None
        except Exception as e:  # noqa: BLE001 - every error is a reported failure
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            if os.environ.get("CHECK_CHART_TRACE"):
                traceback.print_exc()
            return None
        self.passed += 1
        print(f"ok   {name}")
        return out


def split_documents(rendered: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(template path, document text, object) for every non-empty YAML document, NOTES.txt excluded."""
    docs = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for text in re.split(r"^---\s*$", rendered[path], flags=re.M):
            obj = yaml.safe_load(text)
            if obj is not None:
                docs.append((path, text.strip("\n"), obj))
    return docs


def render(chart, values: dict) -> tuple[dict[str, str], list[tuple[str, str, dict]]]:
    rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    return rendered, split_documents(rendered)


def one(objs: list[dict], kind: str, name_suffix: str = "") -> dict:
    found = [o for o in objs if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"expected one {kind}{' *' + name_suffix if name_suffix else ''}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------- schema validation


def strict_crd_schema(schema: dict) -> dict:
    """The CRD's openAPIV3Schema with unknown fields refused (the API server would silently prune them)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    return schema


def load_crd_schemas(crd_dir: Path) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> strict openAPIV3Schema, from every CRD file in crd_dir."""
    schemas = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = version["schema"]["openAPIV3Schema"]
                schemas[(f"{group}/{version['name']}", kind)] = strict_crd_schema(schema)
    return schemas


def validate_object(obj: dict, crds: dict) -> None:
    api_version, kind = obj["apiVersion"], obj["kind"]
    if api_version.split("/")[0] in CRD_GROUPS:
        schema = crds.get((api_version, kind))
        assert schema is not None, f"no CRD schema for {api_version} {kind} in the shared CRDs"
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
        return
    for version in KUBE_VERSIONS:
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as e:
            raise AssertionError(f"Kubernetes {version}: {'.'.join(map(str, e.path))}: {e.message}") from None


def schema_covers(schema: dict, values, path: str = "") -> list[str]:
    """Value paths in `values` that values.schema.json does not describe with a property."""
    missing = []
    if isinstance(values, dict) and values:
        props = schema.get("properties", {})
        for key, v in values.items():
            sub = props.get(key, schema.get("additionalProperties"))
            if not isinstance(sub, dict):
                missing.append(f"{path}{key}")
            elif "$ref" not in sub:
                missing += schema_covers(sub, v, f"{path}{key}.")
    return missing


def leaf_paths(values, path: str = "") -> list[str]:
    if isinstance(values, dict) and values:
        return [p for k, v in values.items() for p in leaf_paths(v, f"{path}{k}.")]
    return [path.rstrip(".")]


# ---------------------------------------------------------------- the chart's promises


def check_pod(sts: dict, merged: dict) -> None:
    pod = sts["spec"]["template"]["spec"]
    psc, (c,) = pod["securityContext"], pod["containers"]
    sc = c["securityContext"]
    want_pod = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"}}
    want_container = {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                      "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    for where, got, want in (("pod", psc, want_pod), ("container", sc, want_container)):
        wrong = {k: got.get(k) for k, v in want.items() if got.get(k) != v}
        assert not wrong, f"{where} securityContext: {wrong}, want {({k: want[k] for k in wrong})}"
    assert c["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http"}, c["livenessProbe"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}, c["readinessProbe"]
    assert c["args"] == ["serve", "--config", "/etc/lookout/lookout.yml", "--data-dir", "/data",
                         "--listen", ":9090"], c["args"]
    assert c["ports"] == [{"name": "http", "containerPort": 9090, "protocol": "TCP"}], c["ports"]
    tag = merged["image"]["tag"] or "0.0.0"
    assert c["image"] == f"{merged['image']['repository']}:{tag}", c["image"]
    assert c["resources"] == merged["resources"], c["resources"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts == {"config": "/etc/lookout", "data": "/data", "tmp": "/tmp"}, mounts
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"], pod["volumes"]
    assert sts["spec"]["replicas"] == 1


def check_storage(sts: dict, merged: dict) -> None:
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    p = merged["persistence"]
    assert claim["spec"]["accessModes"] == p["accessModes"], claim["spec"]
    assert claim["spec"]["resources"]["requests"]["storage"] == p["size"], claim["spec"]
    if p["storageClassName"]:
        assert claim["spec"]["storageClassName"] == p["storageClassName"], claim["spec"]
    else:
        assert "storageClassName" not in claim["spec"], "empty storageClassName must leave the cluster default"


def check_checksum(rendered: dict[str, str], sts: dict) -> None:
    text = rendered[f"{CHART.name}/templates/configmap.yaml"]
    want = hashlib.sha256(text.encode()).hexdigest()
    got = sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert got == want, f"checksum/config {got} != sha256 of the rendered ConfigMap {want}"


def check_config(objs: list[dict], merged: dict) -> str:
    cm = one([o for o in objs if "grafana" not in o["metadata"]["name"]], "ConfigMap")
    text = cm["data"]["lookout.yml"]
    cfg = yaml.safe_load(text)
    assert set(cfg) <= {"global", "scrape_configs", "storage", "limits", "kubernetes", "collectors"}, sorted(cfg)
    assert cfg["collectors"] == merged["config"]["collectors"], cfg["collectors"]
    want_k8s = {"enabled": True, **merged["config"]["kubernetes"]}
    assert cfg["kubernetes"] == want_k8s, f"kubernetes section {cfg['kubernetes']} != {want_k8s}"
    assert cfg["global"] == merged["config"]["global"], cfg["global"]
    assert isinstance(cfg["scrape_configs"], list), "scrape_configs must be a list"
    assert cfg["scrape_configs"] == merged["config"]["extraScrapeConfigs"], cfg["scrape_configs"]
    for section in ("storage", "limits"):
        assert cfg.get(section, {}) == merged["config"][section], (section, cfg.get(section))
    assert "server" not in cfg
    return text


def check_rbac(objs: list[dict], merged: dict) -> None:
    roles = [o for o in objs if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    if not merged["rbac"]["create"]:
        assert not roles, "rbac.create false must not create cluster roles"
        return
    role = one(objs, "ClusterRole")
    extra = [r for r in role["rules"] if r not in EXPECTED_RULES]
    missing = [r for r in EXPECTED_RULES if r not in role["rules"]]
    assert role["rules"] == EXPECTED_RULES, f"ClusterRole rules differ: unexpected {extra}, missing {missing}"
    binding = one(objs, "ClusterRoleBinding")
    sa = one(objs, "ServiceAccount")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                    "namespace": NAMESPACE}], binding["subjects"]


def check_service(objs: list[dict]) -> None:
    svc = one(objs, "Service")
    assert svc["spec"]["type"] == "ClusterIP"
    assert svc["spec"]["ports"] == [{"name": "http", "port": 9090, "targetPort": "http", "protocol": "TCP"}]


def check_grafana(objs: list[dict], merged: dict) -> None:
    g = merged["grafanaDatasource"]
    found = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-grafana-datasource")]
    if not g["enabled"]:
        assert not found, "grafanaDatasource.enabled false must not create the ConfigMap"
        return
    (cm,) = found
    labels = cm["metadata"]["labels"]
    assert labels.get("grafana_datasource") == "1", labels
    for k, v in g["labels"].items():
        assert labels.get(k) == v, (k, labels)
    (ds,) = yaml.safe_load(cm["data"]["datasources.yaml"])["datasources"]
    assert ds["name"] == "Lookout" and ds["type"] == "prometheus" and ds["access"] == "proxy", ds
    assert ds["url"] == f"http://{RELEASE}.{NAMESPACE}.svc:9090", ds["url"]
    assert ds["isDefault"] is g["isDefault"], ds


def check_exposure(objs: list[dict], merged: dict) -> None:
    ir, ing = merged["ingressRoute"], merged["ingress"]
    routes = [o for o in objs if o["kind"] == "IngressRoute"]
    middlewares = [o for o in objs if o["kind"] == "Middleware"]
    ingresses = [o for o in objs if o["kind"] == "Ingress"]
    assert len(routes) == int(ir["enabled"]) and len(ingresses) == int(ing["enabled"]), "exposure objects"
    assert len(middlewares) == int(ir["enabled"] and bool(ir["forwardAuth"]["address"])), "forwardAuth Middleware"
    if routes:
        spec = routes[0]["spec"]
        assert spec["entryPoints"] == ir["entryPoints"], spec
        (route,) = spec["routes"]
        assert route["match"] == f"Host(`{ir['host']}`)", route["match"]
        assert route["services"] == [{"kind": "Service", "name": RELEASE, "port": "http"}], route["services"]
        want = ([{"name": middlewares[0]["metadata"]["name"], "namespace": NAMESPACE}] if middlewares else [])
        want += ir["middlewares"]
        assert route.get("middlewares", []) == want, route.get("middlewares")
        assert spec.get("tls", {}).get("secretName", "") == ir["tls"]["secretName"], spec.get("tls")
    if middlewares:
        fa = middlewares[0]["spec"]["forwardAuth"]
        assert fa["address"] == ir["forwardAuth"]["address"], fa
        assert fa["trustForwardHeader"] is ir["forwardAuth"]["trustForwardHeader"], fa
        assert fa.get("authResponseHeaders", []) == ir["forwardAuth"]["authResponseHeaders"], fa
    if ingresses:
        spec = ingresses[0]["spec"]
        assert spec.get("ingressClassName", "") == ing["className"], spec
        assert spec["rules"][0].get("host", "") == ing["host"], spec["rules"]
        if ing["tls"]["secretName"]:
            assert spec["tls"] == [{"hosts": [ing["host"]], "secretName": ing["tls"]["secretName"]}], spec["tls"]


# ---------------------------------------------------------------- cases, lint, manifest


def manifest_text(docs: list[tuple[str, str, dict]]) -> str:
    def order(d):
        kind = d[2]["kind"]
        return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), d[0])

    header = (
        "# Lookout: plain Kubernetes manifests for kubectl, Argo CD, Flux or Terraform.\n"
        f"# Generated from the Helm chart deploy/helm/lookout with its default values (release \"{RELEASE}\",\n"
        f"# namespace \"{NAMESPACE}\") by `python3 tests/chart/check_chart.py --write-manifest`; do not edit by hand.\n"
        "# CI fails when this file is stale (`--check-manifest`).\n"
        f"# Apply: kubectl create namespace {NAMESPACE} && kubectl apply -f deploy/kubernetes/lookout.yaml\n"
    )
    body = "".join(f"---\n# Source: {path}\n{text}\n" for path, text, _ in sorted(docs, key=order))
    return header + body


def run_case(res: Results, chart, crds: dict, case: str, values: dict, emit: Path | None) -> None:
    p = f"[{case}]"
    res.check(f"{p} values.schema.json accepts the values", chart.validate_schema, values)
    out = res.check(f"{p} render", render, chart, values)
    if out is None:
        return
    rendered, docs = out
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version="v1.30.0")

    def lint_clean():
        bad = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
        assert not bad, bad

    res.check(f"{p} helm lint --strict", lint_clean)
    for path, _, obj in docs:
        res.check(f"{p} valid {obj['kind']}/{obj['metadata']['name']} ({Path(path).name})",
                  validate_object, obj, crds)
    merged = chart.merge_values(values)
    objs = [obj for _, _, obj in docs]
    sts = res.check(f"{p} one StatefulSet", one, objs, "StatefulSet")
    if sts is not None:
        res.check(f"{p} pod: security context, probes, args, resources, volumes", check_pod, sts, merged)
        res.check(f"{p} volumeClaimTemplate data from persistence.*", check_storage, sts, merged)
        res.check(f"{p} checksum/config = sha256 of the rendered ConfigMap", check_checksum, rendered, sts)
    text = res.check(f"{p} lookout.yml follows config.*", check_config, objs, merged)
    res.check(f"{p} ClusterRole rules", check_rbac, objs, merged)
    res.check(f"{p} Service", check_service, objs)
    res.check(f"{p} Grafana data source", check_grafana, objs, merged)
    res.check(f"{p} IngressRoute / Middleware / Ingress", check_exposure, objs, merged)
    if emit is not None and text is not None:
        (emit / f"{case}.yml").write_text(text)


def check_whole_chart(res: Results, chart) -> None:
    defaults = chart.values
    schema = chart.schema

    def covered():
        missing = schema_covers(schema, defaults)
        assert not missing, f"values.schema.json lacks {missing}"

    def documented():
        readme = (CHART / "README.md").read_text()
        missing = [p for p in leaf_paths(defaults) if f"`{p}`" not in readme]
        assert not missing, f"README.md values table lacks {missing}"

    def refuses(bad: dict, what: str):
        try:
            chart.validate_schema(bad)
        except helm.HelmValuesError:
            return
        raise AssertionError(f"the schema accepted {what}")

    def checksum_follows_config():
        def annotation(values):
            _, docs = render(chart, values)
            sts = one([o for _, _, o in docs], "StatefulSet")
            return sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

        base = annotation({})
        assert annotation({"config": {"global": {"scrape_interval": "1m"}}}) != base, "config change kept checksum"
        assert annotation({"config": {"storage": {"retention_time": "90d"}}}) != base, "storage change kept checksum"
        assert annotation({"podLabels": {"a": "b"}}) == base, "a pod label changed the config checksum"

    res.check("values.schema.json describes every value", covered)
    res.check("README.md lists every value", documented)
    res.check("schema refuses an unknown kubernetes key",
              refuses, {"config": {"kubernetes": {"bogus": True}}}, "config.kubernetes.bogus")
    res.check("schema refuses config.kubernetes.enabled (always true)",
              refuses, {"config": {"kubernetes": {"enabled": False}}}, "config.kubernetes.enabled")
    res.check("schema refuses a bad accessMode", refuses, {"persistence": {"accessModes": ["RWX"]}}, "RWX")
    res.check("schema refuses a bad duration", refuses, {"config": {"global": {"scrape_interval": "30"}}}, "30")
    res.check("checksum/config changes with config values only", checksum_follows_config)
    res.check("Chart.yaml: apiVersion v2, name lookout, appVersion 0.0.0", lambda: _metadata_ok(chart.metadata))


def _metadata_ok(meta: dict) -> None:
    assert (meta["apiVersion"], meta["name"], meta["appVersion"]) == ("v2", "lookout", "0.0.0"), meta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emit-configs", type=Path, metavar="DIR")
    ap.add_argument("--check-manifest", action="store_true")
    ap.add_argument("--write-manifest", action="store_true")
    args = ap.parse_args()

    shared = Path(os.environ.get("LOOKOUT_SHARED") or ROOT.parent / "shared")
    crd_dir = shared / "reference" / "crds"
    if not crd_dir.is_dir():
        print(f"check_chart: {crd_dir} is missing; set LOOKOUT_SHARED to the shared reference material",
              file=sys.stderr)
        return 2
    if args.emit_configs:
        args.emit_configs.mkdir(parents=True, exist_ok=True)

    res = Results()
    crds = load_crd_schemas(crd_dir)
    print(f"helm-python-sdk {helm.__version__} (Helm {helm.helm_sdk_version()}), "
          f"kubernetes-validate {kv.__version__} (Kubernetes {', '.join(KUBE_VERSIONS)}), {len(crds)} CRD schemas")
    with helm.Chart.load(CHART) as chart:
        cases = [("defaults", {})]
        cases += [(f.stem, yaml.safe_load(f.read_text()) or {}) for f in sorted(VALUES_DIR.glob("*.yaml"))]
        for case, values in cases:
            run_case(res, chart, crds, case, values, args.emit_configs)
        check_whole_chart(res, chart)
        _, default_docs = render(chart, {})
    fresh = manifest_text(default_docs)
    if args.write_manifest:
        MANIFEST.parent.mkdir(parents=True, exist_ok=True)
        MANIFEST.write_text(fresh)
        print(f"wrote {MANIFEST.relative_to(ROOT)}")
    if args.check_manifest:
        def manifest_current():
            old = MANIFEST.read_text() if MANIFEST.exists() else ""
            diff = list(difflib.unified_diff(old.splitlines(), fresh.splitlines(), "committed", "fresh render",
                                             lineterm="", n=1))
            assert not diff, ("deploy/kubernetes/lookout.yaml is stale; run "
                              "`python3 tests/chart/check_chart.py --write-manifest`\n" + "\n".join(diff[:40]))

        res.check("deploy/kubernetes/lookout.yaml matches the chart defaults", manifest_current)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
