#!/usr/bin/env python3
"""Checks the Lookout Helm chart (deploy/helm/lookout) with the real Helm SDK.

helm-python-sdk binds Helm v4's Go SDK (bundled as libhelm_c.so), so no helm binary is needed. For the chart
defaults and every value set in tests/chart/values/ this script renders the chart, lints it, validates every
object (core kinds with kubernetes-validate --strict, Traefik and Prometheus Operator kinds against the CRD schemas
in $LOOKOUT_SHARED/reference/crds) and asserts what the chart promises. Options:

  --emit-configs DIR   write each rendered lookout.yml to DIR/<case>.yml, and the node agent's (agent.enabled) to
                       DIR/<case>-agent.yml (the Rust e2e test parses them)
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
              "DaemonSet", "Middleware", "IngressRoute", "Ingress"]
# The node agent's objects (agent.enabled) carry this label and are named <fullname>-agent.
AGENT_COMPONENT = ("app.kubernetes.io/component", "agent")
AGENT_NAME = f"{RELEASE}-agent"
# The default jobs the server leaves to the agents (kubernetes.exclude_default_jobs).
AGENT_NODE_JOBS = ["kubelet", "kubelet-cadvisor", "kubelet-probes", "kubernetes-pods"]
# Kubelet scraping and node-local pod discovery, nothing more.
EXPECTED_AGENT_RULES = [
    {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/metrics", "nodes/proxy"], "verbs": ["get"]},
    {"nonResourceURLs": ["/metrics", "/metrics/cadvisor"], "verbs": ["get"]},
]

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


def is_agent(obj: dict) -> bool:
    return obj["metadata"].get("labels", {}).get(AGENT_COMPONENT[0]) == AGENT_COMPONENT[1]


def server_objects(objs: list[dict]) -> list[dict]:
    """Everything but the node agent's objects."""
    return [o for o in objs if not is_agent(o)]


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
    cm = one([o for o in server_objects(objs)
              if "grafana" not in o["metadata"]["name"] and "-dashboard-" not in o["metadata"]["name"]], "ConfigMap")
    text = cm["data"]["lookout.yml"]
    cfg = yaml.safe_load(text)
    assert set(cfg) <= {"global", "scrape_configs", "storage", "limits", "kubernetes", "collectors", "auth"}, sorted(cfg)
    # auth: passed through when set, with the probes' paths made public so the StatefulSet stays ready.
    want_auth = merged["config"].get("auth") or {}
    if want_auth:
        got = dict(cfg["auth"])
        public = got.pop("public_paths")
        assert {"/-/healthy", "/-/ready"} <= set(public), public
        assert set(want_auth.get("public_paths", [])) <= set(public), public
        assert got == {k: v for k, v in want_auth.items() if k != "public_paths"}, got
    else:
        assert "auth" not in cfg, cfg.get("auth")
    assert cfg["collectors"] == merged["config"]["collectors"], cfg["collectors"]
    want_k8s = {"enabled": True, **merged["config"]["kubernetes"]}
    agent = merged["agent"]
    if agent["enabled"] and not agent["serverKeepsNodeJobs"]:
        want_k8s["exclude_default_jobs"] = AGENT_NODE_JOBS
    assert cfg["kubernetes"] == want_k8s, f"kubernetes section {cfg['kubernetes']} != {want_k8s}"
    assert cfg["global"] == merged["config"]["global"], cfg["global"]
    assert isinstance(cfg["scrape_configs"], list), "scrape_configs must be a list"
    assert cfg["scrape_configs"] == merged["config"]["extraScrapeConfigs"], cfg["scrape_configs"]
    for section in ("storage", "limits"):
        assert cfg.get(section, {}) == merged["config"][section], (section, cfg.get(section))
    assert "server" not in cfg
    return text


def check_rbac(objs: list[dict], merged: dict) -> None:
    objs = server_objects(objs)
    roles = [o for o in objs if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    if not merged["rbac"]["create"]:
        assert not roles, "rbac.create false must not create cluster roles"
        return
    role = one(objs, "ClusterRole")
    extra = [r for r in role["rules"] if r not in EXPECTED_RULES]
    missing = [r for r in EXPECTED_RULES if r not in role["rules"]]
    assert role["rules"] == EXPECTED_RULES, f"ClusterRole rules differ: unexpected {extra}, missing {missing}"
    binding = one(objs, "ClusterRoleBinding")
    sa = merged["serviceAccount"]
    if sa["create"]:
        sa_name = one(objs, "ServiceAccount")["metadata"]["name"]
    else:
        assert not [o for o in objs if o["kind"] == "ServiceAccount"], "serviceAccount.create false made one"
        sa_name = sa["name"] or "default"
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa_name,
                                    "namespace": NAMESPACE}], binding["subjects"]


def check_service(objs: list[dict]) -> None:
    svc = one(server_objects(objs), "Service")
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
    (ds, logs) = yaml.safe_load(cm["data"]["datasources.yaml"])["datasources"]
    assert ds["name"] == "Lookout" and ds["type"] == "prometheus" and ds["access"] == "proxy", ds
    assert ds["url"] == f"http://{RELEASE}.{NAMESPACE}.svc:9090", ds["url"]
    assert ds["isDefault"] is g["isDefault"], ds
    assert logs["type"] == "loki" and logs["url"] == ds["url"] and logs["isDefault"] is False, logs


def check_grafana_dashboards(objs: list[dict], merged: dict) -> None:
    """One ConfigMap per dashboards/*.json, the file's bytes unchanged, labelled for the Grafana sidecar."""
    g = merged["grafanaDashboards"]
    found = {o["metadata"]["name"]: o for o in objs
             if o["kind"] == "ConfigMap" and "grafana_dashboard" in o["metadata"].get("labels", {})}
    if not g["enabled"]:
        assert not found, f"grafanaDashboards.enabled false must not create dashboard ConfigMaps: {sorted(found)}"
        return
    files = sorted(ROOT.joinpath("dashboards").glob("*.json"))
    assert files, "no dashboards/*.json"
    for f in files:
        name = f"{RELEASE}-dashboard-{f.stem}"[:63].rstrip("-")
        assert name in found, f"no ConfigMap {name} for {f.name}: {sorted(found)}"
        cm = found.pop(name)
        labels = cm["metadata"]["labels"]
        assert labels.get("grafana_dashboard") == "1", labels
        for k, v in g["labels"].items():
            assert labels.get(k) == v, (k, labels)
        assert cm["metadata"]["annotations"]["grafana_folder"] == g["folder"], cm["metadata"]
        assert cm["metadata"]["namespace"] == (g["namespace"] or NAMESPACE), cm["metadata"]
        assert list(cm["data"]) == [f.name], list(cm["data"])
        assert cm["data"][f.name] == f.read_text().rstrip("\n"), f"{f.name} differs in its ConfigMap"
    assert not found, f"dashboard ConfigMaps without a file: {sorted(found)}"


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


# ---------------------------------------------------------------- the node agent (agent.enabled)


def service_url() -> str:
    return f"http://{RELEASE}.{NAMESPACE}.svc:9090"


def check_no_agent(objs: list[dict]) -> None:
    found = [f"{o['kind']}/{o['metadata']['name']}" for o in objs if is_agent(o) or o["kind"] == "DaemonSet"]
    assert not found, f"agent.enabled false must not create agent objects: {found}"


def check_agent_objects(objs: list[dict], merged: dict) -> None:
    """The agent's objects, each named <fullname>-agent; none selected by the server's Service or StatefulSet."""
    agent = [o for o in objs if is_agent(o)]
    kinds = sorted(o["kind"] for o in agent)
    want = ["ConfigMap", "DaemonSet"]
    if merged["serviceAccount"]["create"]:
        want.append("ServiceAccount")
    if merged["rbac"]["create"]:
        want += ["ClusterRole", "ClusterRoleBinding"]
    assert kinds == sorted(want), f"agent objects {kinds}, want {sorted(want)}"
    for o in agent:
        assert o["metadata"]["name"] == AGENT_NAME, f"{o['kind']} {o['metadata']['name']}, want {AGENT_NAME}"
    ds = one(objs, "DaemonSet")
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    selector = ds["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items(), (selector, pod_labels)
    server = server_objects(objs)
    svc_selector = one(server, "Service")["spec"]["selector"]
    sts_selector = one(server, "StatefulSet")["spec"]["selector"]["matchLabels"]
    for what, sel in (("Service", svc_selector), ("StatefulSet", sts_selector)):
        assert not sel.items() <= pod_labels.items(), f"the server's {what} selector {sel} selects the agent pods"
    server_pod_labels = one(server, "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert not selector.items() <= server_pod_labels.items(), "the agent's selector selects the server pod"


def check_agent_pod(ds: dict, merged: dict) -> None:
    a = merged["agent"]
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["args"] == ["agent", "--config", "/etc/lookout/lookout.yml", "--data-dir", "/var/lib/lookout-agent",
                         "--listen", f":{a['port']}", "--memory-limit", a["memoryLimit"]], c["args"]
    assert c["env"] == [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}], c["env"]
    assert c["ports"] == [{"name": "http", "containerPort": a["port"], "protocol": "TCP"}], c["ports"]
    repo = a["image"]["repository"] or merged["image"]["repository"]
    tag = a["image"]["tag"] or merged["image"]["tag"] or "0.0.0"
    assert c["image"] == f"{repo}:{tag}", c["image"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/-/healthy", "port": "http"}, c["livenessProbe"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "http"}, c["readinessProbe"]
    assert c["resources"] == a["resources"], c["resources"]
    assert "memory" in c["resources"].get("limits", {}), "the agent needs a memory limit"
    got = {k: pod.get(k) for k in ("hostNetwork", "hostPID", "dnsPolicy")}
    assert got == {"hostNetwork": True, "hostPID": True, "dnsPolicy": "ClusterFirstWithHostNet"}, got
    assert pod["tolerations"] == a["tolerations"], pod.get("tolerations")
    assert pod.get("nodeSelector", {}) == a["nodeSelector"], pod.get("nodeSelector")
    assert pod.get("priorityClassName", "") == a["priorityClassName"], pod.get("priorityClassName")
    sa = AGENT_NAME if merged["serviceAccount"]["create"] else (merged["serviceAccount"]["name"] or "default")
    assert pod["serviceAccountName"] == sa, pod["serviceAccountName"]
    assert pod.get("imagePullSecrets", []) == merged["imagePullSecrets"], pod.get("imagePullSecrets")
    # Root, for the pod logs and the journal; nothing else.
    want_pod = {"runAsUser": 0, "runAsGroup": 0, "seccompProfile": {"type": "RuntimeDefault"}}
    want_container = {"runAsUser": 0, "runAsGroup": 0, "readOnlyRootFilesystem": True,
                      "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                      "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["securityContext"] == want_pod, pod["securityContext"]
    assert c["securityContext"] == want_container, c["securityContext"]
    assert "privileged" not in c["securityContext"]


def expected_agent_volumes(a: dict) -> tuple[dict, dict]:
    """mount name -> volumeMount, volume name -> volume source, for the agent's values."""
    ro = {"readOnly": True}
    mounts = {
        "config": {"mountPath": "/etc/lookout", **ro},
        "data": {"mountPath": "/var/lib/lookout-agent"},
        "tmp": {"mountPath": "/tmp"},
        "proc": {"mountPath": "/host/proc", **ro},
        "sys": {"mountPath": "/host/sys", **ro},
        "root": {"mountPath": "/host/root", "mountPropagation": "HostToContainer", **ro},
    }
    volumes = {
        "config": {"configMap": {"name": AGENT_NAME}},
        "data": {"hostPath": {"path": "/var/lib/lookout-agent", "type": "DirectoryOrCreate"}},
        "tmp": {"emptyDir": {}},
        "proc": {"hostPath": {"path": "/proc", "type": "Directory"}},
        "sys": {"hostPath": {"path": "/sys", "type": "Directory"}},
        "root": {"hostPath": {"path": "/", "type": "Directory"}},
    }
    if a["podLogs"]["enabled"]:
        mounts["pod-logs"] = {"mountPath": "/var/log/pods", **ro}
        volumes["pod-logs"] = {"hostPath": {"path": "/var/log/pods", "type": "Directory"}}
    if a["journal"]["enabled"]:
        # Either may be absent on a node: no type check ("" ), so the pod still starts.
        for name, path in (("journal", "/var/log/journal"), ("run-journal", "/run/log/journal")):
            mounts[name] = {"mountPath": path, **ro}
            volumes[name] = {"hostPath": {"path": path, "type": ""}}
    return mounts, volumes


def check_agent_volumes(ds: dict, merged: dict) -> None:
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    want_mounts, want_volumes = expected_agent_volumes(merged["agent"])
    mounts = {m["name"]: {k: v for k, v in m.items() if k != "name"} for m in c["volumeMounts"]}
    volumes = {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in pod["volumes"]}
    assert len(mounts) == len(c["volumeMounts"]) and len(volumes) == len(pod["volumes"]), "duplicate names"
    assert mounts == want_mounts, f"volumeMounts {mounts} != {want_mounts}"
    assert volumes == want_volumes, f"volumes {volumes} != {want_volumes}"
    for name, v in volumes.items():
        host = v.get("hostPath")
        writable = not mounts[name].get("readOnly", False)
        if host and writable:
            assert host["path"] == "/var/lib/lookout-agent", f"host path {host['path']} mounted writable"
        if host and host.get("type") == "DirectoryOrCreate":
            assert writable, f"read-only host path {host['path']} must not be DirectoryOrCreate"


def check_agent_checksum(rendered: dict[str, str], ds: dict) -> None:
    text = rendered[f"{CHART.name}/templates/agent-configmap.yaml"]
    want = hashlib.sha256(text.encode()).hexdigest()
    got = ds["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert got == want, f"checksum/config {got} != sha256 of the rendered agent ConfigMap {want}"


def expected_agent_config(merged: dict) -> dict:
    a, g = merged["agent"], merged["config"]["global"]

    def entry(values: dict, path: str) -> dict:
        return {**values, "url": values["url"] or f"{service_url()}{path}"}

    cfg = {
        "global": {"scrape_interval": a["scrapeInterval"] or g["scrape_interval"],
                   "scrape_timeout": a["scrapeTimeout"] or g["scrape_timeout"],
                   "external_labels": g["external_labels"]},
        "scrape_configs": a["extraScrapeConfigs"],
        "remote_write": [entry(a["remoteWrite"], "/api/v1/write")],
        "loki_write": [entry(a["lokiWrite"], "/loki/api/v1/push")],
        "collectors": {"host": {"proc_root": "/host/proc", "sys_root": "/host/sys", "rootfs": "/host/root"}},
        "kubernetes": {"enabled": True, "default_scrape_jobs": True, "monitors": {"enabled": False},
                       "kube_state_metrics": {"enabled": False}, "rules": {"enabled": False}},
    }
    host_logs = {}
    if a["journal"]["enabled"]:
        host_logs["journal"] = {"path": a["journal"]["path"]}
    if a["podLogs"]["enabled"]:
        host_logs["pods"] = {"path": "/var/log/pods"}
    if host_logs:
        cfg["host_logs"] = host_logs
    return cfg


def check_agent_config(objs: list[dict], merged: dict) -> str:
    cm = one([o for o in objs if is_agent(o)], "ConfigMap")
    text = cm["data"]["lookout.yml"]
    cfg = yaml.safe_load(text)
    want = expected_agent_config(merged)
    diff = {k: (cfg.get(k), want.get(k)) for k in set(cfg) | set(want) if cfg.get(k) != want.get(k)}
    assert not diff, f"agent lookout.yml differs (got, want): {diff}"
    assert "node_name" not in cfg["kubernetes"], "node_name must stay empty: the agent reads NODE_NAME"
    return text


def check_agent_rbac(objs: list[dict], merged: dict) -> None:
    agent = [o for o in objs if is_agent(o)]
    roles = [o for o in agent if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    if not merged["rbac"]["create"]:
        assert not roles, "rbac.create false must not create the agent's cluster roles"
        return
    role = one(agent, "ClusterRole")
    extra = [r for r in role["rules"] if r not in EXPECTED_AGENT_RULES]
    missing = [r for r in EXPECTED_AGENT_RULES if r not in role["rules"]]
    assert role["rules"] == EXPECTED_AGENT_RULES, \
        f"agent ClusterRole rules differ: unexpected {extra}, missing {missing}"
    binding = one(agent, "ClusterRoleBinding")
    sa = one(objs, "DaemonSet")["spec"]["template"]["spec"]["serviceAccountName"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}, binding["roleRef"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}], \
        binding["subjects"]


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
    sts = res.check(f"{p} one StatefulSet", one, server_objects(objs), "StatefulSet")
    if sts is not None:
        res.check(f"{p} pod: security context, probes, args, resources, volumes", check_pod, sts, merged)
        res.check(f"{p} volumeClaimTemplate data from persistence.*", check_storage, sts, merged)
        res.check(f"{p} checksum/config = sha256 of the rendered ConfigMap", check_checksum, rendered, sts)
    text = res.check(f"{p} lookout.yml follows config.*", check_config, objs, merged)
    res.check(f"{p} ClusterRole rules", check_rbac, objs, merged)
    res.check(f"{p} Service", check_service, objs)
    res.check(f"{p} Grafana data sources", check_grafana, objs, merged)
    res.check(f"{p} Grafana dashboards", check_grafana_dashboards, objs, merged)
    res.check(f"{p} IngressRoute / Middleware / Ingress", check_exposure, objs, merged)
    if emit is not None and text is not None:
        (emit / f"{case}.yml").write_text(text)
    if not merged["agent"]["enabled"]:
        res.check(f"{p} no agent objects", check_no_agent, objs)
        return
    res.check(f"{p} agent objects named {AGENT_NAME}, not selected by the server's selectors",
              check_agent_objects, objs, merged)
    ds = res.check(f"{p} one DaemonSet", one, objs, "DaemonSet")
    if ds is not None:
        res.check(f"{p} agent pod: args, NODE_NAME, host network/PID, tolerations, security context, probes",
                  check_agent_pod, ds, merged)
        res.check(f"{p} agent host mounts read-only, data dir writable", check_agent_volumes, ds, merged)
        res.check(f"{p} agent checksum/config = sha256 of the rendered agent ConfigMap",
                  check_agent_checksum, rendered, ds)
    agent_text = res.check(f"{p} agent lookout.yml", check_agent_config, objs, merged)
    res.check(f"{p} agent ClusterRole rules", check_agent_rbac, objs, merged)
    if emit is not None and agent_text is not None:
        (emit / f"{case}-agent.yml").write_text(agent_text)


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
    def agent_checksum_follows_config():
        def annotations(values):
            _, docs = render(chart, {"agent": {"enabled": True, **values}})
            objs = [o for _, _, o in docs]
            ds = one(objs, "DaemonSet")
            sts = one(server_objects(objs), "StatefulSet")
            key = "checksum/config"
            return (ds["spec"]["template"]["metadata"]["annotations"][key],
                    sts["spec"]["template"]["metadata"]["annotations"][key])

        base, server = annotations({})
        assert annotations({"scrapeInterval": "1m"})[0] != base, "agent config change kept the agent checksum"
        assert annotations({"journal": {"enabled": True}})[0] != base, "journal change kept the agent checksum"
        assert annotations({"serverKeepsNodeJobs": True}) == (base, annotations({"serverKeepsNodeJobs": True})[1])
        assert annotations({"serverKeepsNodeJobs": True})[1] != server, "exclude_default_jobs kept the server checksum"
        assert annotations({"tolerations": []})[0] == base, "a toleration changed the agent config checksum"

    res.check("checksum/config changes with config values only", checksum_follows_config)
    res.check("agent checksum/config follows the agent's lookout.yml", agent_checksum_follows_config)
    res.check("schema refuses an unknown agent key", refuses, {"agent": {"bogus": True}}, "agent.bogus")
    res.check("schema refuses an agent journal path that is not mounted",
              refuses, {"agent": {"journal": {"path": "/var/log"}}}, "agent.journal.path /var/log")
    res.check("schema refuses a bad agent memoryLimit", refuses, {"agent": {"memoryLimit": "64 megs"}}, "64 megs")
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
